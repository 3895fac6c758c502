/*
 * shell.h - labc's interactive shell (libedit: prompt, history, completion
 * of command names) and its plain form that reads commands from a stdin
 * that is not a terminal.
 */
#ifndef LABC_SHELL_H
#define LABC_SHELL_H

#include "client.h"

/*
 * Run the shell on c until exit, quit or the end of input. interactive:
 * stdin is a terminal (line editing); otherwise one command per line, no
 * prompt. persist: keep the history in ~/.labc_history. The exit status:
 * 0 after exit or quit, else that of the last command (interactive: 0).
 */
int	shell_run(struct client *c, int interactive, int persist);

#endif
