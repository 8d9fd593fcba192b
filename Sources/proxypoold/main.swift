import Glibc
import ProxyPoolDaemon

exit(Daemon.main(Array(CommandLine.arguments.dropFirst())))
