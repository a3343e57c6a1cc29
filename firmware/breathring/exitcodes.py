"""Exit codes of every `breathring` command: one table (sysexits.h where one fits)."""

#: Done.
EXIT_OK = 0
#: A check found a fault, or the service refused the request.
EXIT_FAILURE = 1
#: A command-line mistake (argparse uses 2 as well).
EXIT_USAGE = 2
#: Missing or unusable hardware, or no service to talk to (sysexits EX_UNAVAILABLE).
EXIT_UNAVAILABLE = 69
#: A file the command should write cannot be created (sysexits EX_CANTCREAT).
EXIT_CANTCREAT = 73
#: A bad configuration, or one the hardware cannot honour (sysexits EX_CONFIG).
EXIT_CONFIG = 78
#: Stopped with Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
