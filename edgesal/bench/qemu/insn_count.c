/*
 * insn_count: a QEMU TCG plugin (user mode) that counts executed guest instructions and
 * reports the running total whenever the guest makes a marker system call.
 *
 * Part of edgesal (Apache-2.0). Written against QEMU's public plugin API (docs/devel/tcg-plugins
 * and the API reference): the few types and functions used are declared here, so no QEMU
 * headers are needed to build it.
 *
 * Counting: at translation, every translation block gets an execution callback that adds the
 * block's instruction count to the counter of the guest thread (vCPU) running it. One counter
 * per thread, written only by that thread: no lost updates between threads, and a stray thread
 * (a BLAS pool spinning, a runtime's helper) cannot leak timing-dependent work into the count
 * of the thread that runs the inference. (QEMU 7.x has no per-vCPU inline counters; the
 * callback costs a little speed for exactness.)
 *
 * Markers: the guest calls lseek(-1, 0x45444753_0000_0000 | tag, 0) ("EDGS" in the high word);
 * the call fails harmlessly with EBADF and the plugin writes "mark <tag> <self> <all>" to the
 * file given as out=PATH (or to QEMU's log): <self> is the marking thread's running count,
 * <all> the sum over every thread so far, so the guest brackets exactly the region it times.
 * Arguments: out=PATH, sys=N (the marker syscall number; 62 = lseek on aarch64).
 *
 * Build: gcc -shared -fPIC -O2 -o insn_count.so insn_count.c
 * Run:   qemu-aarch64 -plugin ./insn_count.so,out=marks.txt ./program
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of QEMU's public plugin API used here (API version 1, QEMU 7.x) ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* opaque: not read */
struct qemu_plugin_tb;
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                                              uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                              uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
/* ---- end of the API subset ---- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MARK_MAGIC UINT64_C(0x45444753) /* "EDGS" */

#define MAX_THREADS 4096 /* vCPU indices beyond this share the last counter (never the marking thread's) */

static uint64_t insn_by_thread[MAX_THREADS + 1];
static int64_t marker_syscall = 62;
static FILE *out;

static void emit(const char *line)
{
    if (out) {
        fputs(line, out);
        fflush(out);
    } else {
        qemu_plugin_outs(line);
    }
}

static unsigned int slot(unsigned int vcpu)
{
    return vcpu < MAX_THREADS ? vcpu : MAX_THREADS;
}

static uint64_t insn_all(void)
{
    uint64_t sum = 0;
    for (unsigned int i = 0; i <= MAX_THREADS; i++) {
        sum += insn_by_thread[i];
    }
    return sum;
}

static void on_block(unsigned int vcpu, void *n_insns)
{
    insn_by_thread[slot(vcpu)] += (uint64_t)(uintptr_t)n_insns;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8)
{
    char line[128];
    (void)id; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    if (num != marker_syscall || a1 != UINT64_MAX || (a2 >> 32) != MARK_MAGIC) {
        return;
    }
    snprintf(line, sizeof line, "mark %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", a2 & UINT64_C(0xffffffff),
             insn_by_thread[slot(vcpu)], insn_all());
    emit(line);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id; (void)userdata;
    snprintf(line, sizeof line, "total %" PRIu64 "\n", insn_all());
    emit(line);
    if (out) {
        fclose(out);
        out = NULL;
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            out = fopen(argv[i] + 4, "w");
            if (!out) {
                fprintf(stderr, "insn_count: cannot write %s\n", argv[i] + 4);
                return -1;
            }
        } else if (strncmp(argv[i], "sys=", 4) == 0) {
            marker_syscall = strtoll(argv[i] + 4, NULL, 10);
        } else {
            fprintf(stderr, "insn_count: unknown argument %s (expected out=PATH, sys=N)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
