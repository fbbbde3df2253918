"""ARM latency estimates without a board: aarch64 instructions per inference counted under
qemu-user with a TCG plugin (:mod:`.plugin`, ``insn_count.c``), per named core's feature set
(:mod:`.cores`), converted to milliseconds through a reference model (:mod:`.estimate`)."""
