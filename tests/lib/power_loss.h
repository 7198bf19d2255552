/*
 * power_loss.h - an fsync-aware layer in the sa_sysio table that simulates a power loss, for the
 * fault tests (tests/fault/0001, 0004). One process, one thread (the store's sync threads off:
 * SAMSA_SYNC_THREADS=0), so the cut is one precise point in a sequence of calls.
 *
 * kill -9 leaves the page cache intact, so it cannot show that acknowledged data was fdatasync'd.
 * With this layer the power goes out at a chosen file system call: every tracked file (segments
 * *.log, metadata logs *.compact, the cleaner's *.cleaned and *.swap) is cut back to what its last
 * fdatasync covered plus a random torn part of the unsynced bytes (sometimes garbled), and a
 * rename not yet made durable by a directory fsync is undone half of the time.
 */
#ifndef SA_TEST_POWER_LOSS_H
#define SA_TEST_POWER_LOSS_H

/** Put the layer into sa_sysio: the power goes out (pl_power_loss(), then _exit(0), no close) at
 *  the @p calls-th file system call from now (-1: only when the caller calls pl_power_loss()).
 *  @p seed drives the torn parts. */
void pl_install(unsigned seed, long calls);

/** The power goes out now: cut every tracked file as described above (the caller then exits). */
void pl_power_loss(void);

#endif
