using System.Runtime.CompilerServices;

namespace Portal.Testing;

/// <summary>
/// Every test host of a test run lives in one process. Each would otherwise set inotify watches on its
/// configuration files and web root, and Linux allows 128 inotify instances per user: dozens of hosts at
/// once (and other runs on the machine) use them up, and hosts then fail at random. Tests never change
/// those files, so the hosts poll nothing and watch nothing.
/// </summary>
internal static class TestHostEnvironment
{
    [ModuleInitializer]
    internal static void DisableFileWatching()
    {
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
        Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
    }
}
