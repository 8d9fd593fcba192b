#ifndef CSYSTEMD_SHIM_H
#define CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
/* sd_journal_send and sd_notifyf are variadic; Swift calls sd_journal_sendv and sd_notify directly. */
#endif
