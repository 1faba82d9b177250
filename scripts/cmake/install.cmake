# SPDX-License-Identifier: GPL-2.0-only
# Installing amlguard the Debian way, and the .deb: "cmake --install" puts the binary in
# /usr/sbin, the configuration in /etc/amlguard, the systemd unit in /lib/systemd/system, the man
# pages, the bash completion, the logrotate snippet and the shipped policies in their FHS places;
# "cpack -G DEB" packs the same tree, its dependencies found by dpkg-shlibdeps.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(AMLG_GZIP gzip REQUIRED)

# /etc and /lib/systemd/system for the /usr prefix (FHS), under the prefix otherwise.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	set(AMLG_UNITDIR /lib/systemd/system)
else()
	set(AMLG_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(AMLG_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(AMLG_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/amlguard)

configure_file(${CMAKE_SOURCE_DIR}/user/dist/amlguard.service.in ${CMAKE_BINARY_DIR}/dist/amlguard.service
	       @ONLY)

# Man pages, from the Markdown documents they share their text with.
set(AMLG_MANPAGES
	"amlguard|8|an eBPF allow-list for Azure Machine Learning network flows|docs/amlguard.8.md"
	"amlguard.policy|5|the amlguard policy language|docs/policy.md")
set(AMLG_MAN_OUTPUTS)
foreach(page ${AMLG_MANPAGES})
	string(REPLACE "|" ";" f "${page}")
	list(GET f 0 name)
	list(GET f 1 sect)
	list(GET f 2 what)
	list(GET f 3 src)
	set(out ${CMAKE_BINARY_DIR}/man/${name}.${sect}.gz)
	add_custom_command(OUTPUT ${out}
		COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
		COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/md2man ${name} ${sect} ${what}
			< ${CMAKE_SOURCE_DIR}/${src} > ${CMAKE_BINARY_DIR}/man/${name}.${sect}
		COMMAND ${AMLG_GZIP} -9nf ${CMAKE_BINARY_DIR}/man/${name}.${sect}
		DEPENDS ${CMAKE_SOURCE_DIR}/${src} ${CMAKE_SOURCE_DIR}/scripts/md2man
		COMMENT "man page ${name}(${sect})"
		VERBATIM)
	install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sect})
	list(APPEND AMLG_MAN_OUTPUTS ${out})
endforeach()
add_custom_target(amlguard_man ALL DEPENDS ${AMLG_MAN_OUTPUTS})

install(FILES ${CMAKE_SOURCE_DIR}/user/dist/amlguard.conf DESTINATION ${AMLG_CONFDIR})
install(FILES ${CMAKE_BINARY_DIR}/dist/amlguard.service DESTINATION ${AMLG_UNITDIR})
install(FILES ${CMAKE_SOURCE_DIR}/user/dist/amlguard.logrotate
	DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/logrotate.d RENAME amlguard)
install(FILES ${CMAKE_SOURCE_DIR}/user/dist/amlguard.bash-completion
	DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME amlguard)
# Monitoring: the Prometheus rules, the scrape and Alertmanager examples, the Grafana dashboard;
# the cloud-init example for deploying to many hosts.
install(FILES ${CMAKE_SOURCE_DIR}/user/dist/prometheus/amlguard.rules.yml
	${CMAKE_SOURCE_DIR}/user/dist/prometheus/prometheus-scrape.yml
	${CMAKE_SOURCE_DIR}/user/dist/prometheus/alertmanager.yml
	DESTINATION ${CMAKE_INSTALL_DATADIR}/amlguard/prometheus)
install(FILES ${CMAKE_SOURCE_DIR}/user/dist/grafana/amlguard-dashboard.json
	DESTINATION ${CMAKE_INSTALL_DATADIR}/amlguard/grafana)
install(FILES ${CMAKE_SOURCE_DIR}/user/dist/cloud-init/amlguard-user-data.yml
	DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/policies/ DESTINATION ${CMAKE_INSTALL_DATADIR}/amlguard/policies
	FILES_MATCHING PATTERN "*.policy" PATTERN "*.md" PATTERN "catalogue.tsv")
install(FILES ${CMAKE_SOURCE_DIR}/docs/policy.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- the Debian package -----------------------------------------------------------------------
file(WRITE ${CMAKE_BINARY_DIR}/dist/conffiles
	"${AMLG_CONFDIR}/amlguard.conf\n${CMAKE_INSTALL_FULL_SYSCONFDIR}/logrotate.d/amlguard\n")
set(CPACK_PACKAGE_NAME amlguard)
set(CPACK_PACKAGE_VENDOR amlguard)
set(CPACK_PACKAGE_CONTACT "amlguard maintainers <amlguard@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "eBPF allow-list for the network flows of Azure Machine Learning")
set(CPACK_PACKAGE_DESCRIPTION
    "amlguard classifies every packet of a host or gateway NIC against a policy compiled from\nthe flows Azure Machine Learning documents as required, and reports or drops the rest.\nIt runs as a systemd service with violation logs, alerts and Prometheus metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter, tcpdump")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/dist/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/;/\\\\.git/")
include(CPack)
