# gcpilot_bpf_skeleton(NAME SOURCE): compiles a CO-RE BPF program (SOURCE,
# a .bpf.c file) with clang for the BPF target against a vmlinux.h dumped from
# the running kernel's BTF, generates its libbpf skeleton (NAME.skel.h) with
# bpftool, and defines an INTERFACE target NAME_skel whose include directory
# holds the skeleton. Link it together with libbpf.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
set(GCPILOT_KERNEL_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF for vmlinux.h")
set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

add_custom_command(
  OUTPUT ${BPF_GEN_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${GCPILOT_KERNEL_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${GCPILOT_KERNEL_BTF}")

function(gcpilot_bpf_skeleton name source)
  set(obj ${BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${BPF_GEN_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -I${BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/include
            -c ${source} -o ${obj}
    DEPENDS ${source} ${BPF_GEN_DIR}/vmlinux.h
    IMPLICIT_DEPENDS C ${source}
    COMMENT "Compiling BPF program ${name}")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "Generating BPF skeleton ${name}.skel.h")
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  target_include_directories(${name}_skel INTERFACE ${BPF_GEN_DIR})
  add_dependencies(${name}_skel ${name}_skel_gen)
endfunction()
