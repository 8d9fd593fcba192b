import Glibc
import ProxyPoolCtl

exit(Ctl.main(Array(CommandLine.arguments.dropFirst())))
