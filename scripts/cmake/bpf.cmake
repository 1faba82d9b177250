# SPDX-License-Identifier: GPL-2.0-only
# Build a BPF object with clang and generate its libbpf skeleton with bpftool.
find_program(AMLG_CLANG NAMES clang clang-14 REQUIRED)
find_program(AMLG_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
set(AMLG_BPF_SKEL_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${AMLG_BPF_SKEL_DIR})

# Debian's clang 14 needs the multiarch include directory for <asm/types.h>.
if(CMAKE_LIBRARY_ARCHITECTURE)
	set(AMLG_BPF_ARCH_INC -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
endif()

function(amlg_bpf_object name src)
	set(obj ${AMLG_BPF_SKEL_DIR}/${name}.bpf.o)
	set(skel ${AMLG_BPF_SKEL_DIR}/${name}.skel.h)
	add_custom_command(OUTPUT ${obj}
		COMMAND ${AMLG_CLANG} -g -O2 -target bpf -Wall -Werror
			-I${CMAKE_SOURCE_DIR}/bpf ${AMLG_BPF_ARCH_INC} ${AMLG_BPF_CFLAGS}
			-MD -MF ${obj}.d -c ${src} -o ${obj}
		DEPENDS ${src}
		DEPFILE ${obj}.d
		COMMENT "BPF ${name}.bpf.o"
		VERBATIM)
	add_custom_command(OUTPUT ${skel}
		COMMAND ${AMLG_BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
		DEPENDS ${obj}
		COMMENT "skeleton ${name}.skel.h"
		VERBATIM)
	add_custom_target(${name}_skel DEPENDS ${skel} ${obj})
	set(AMLG_BPF_OBJ ${obj} PARENT_SCOPE)
	set(AMLG_BPF_SKEL_DIR ${AMLG_BPF_SKEL_DIR} PARENT_SCOPE)
endfunction()
