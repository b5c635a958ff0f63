using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The README's demo on other ports, run as its words say (<c>dotnet run --project src/Portal.Web -- --urls …
/// --Portal:Emulator:Port …</c>) from a scratch directory: the portal answers on the one port, the embedded IdP
/// emulator on the other, the demo tenants sign agents in there, and the demo's data lands in
/// <c>src/Portal.Web/.portal-data/</c> (the folder the README says to delete for a fresh demo), wherever the command
/// was typed: <c>dotnet run --project</c> runs the app in its project folder. The test only reads from the demo.
/// </summary>
public sealed class DemoCommandTests : IAsyncLifetime
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("portal-demo-").FullName;
    private readonly StringBuilder _output = new();
    private readonly int _portalPort = FreePort();
    private readonly int _emulatorPort = FreePort();
    private readonly DateTime _startedAt = DateTime.UtcNow.AddSeconds(-1);
    private Process? _process;

    private Uri Portal => new($"http://127.0.0.1:{_portalPort}/");

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo("dotnet")
        {
            // --no-build: the test run has built the portal already (Debug, as `dotnet run` does by default).
            ArgumentList =
            {
                "run", "--project", Path.Combine(root, "src", "Portal.Web"), "--no-build", "--no-launch-profile", "--",
                "--urls", Portal.GetLeftPart(UriPartial.Authority), "--Portal:Emulator:Port", _emulatorPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            WorkingDirectory = _scratch,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("Portal__", StringComparison.Ordinal) || k.StartsWith("PORTAL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        // What the launch profile gives `dotnet run`: the Development environment (the demo's).
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet run did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited ({_process.ExitCode}) before answering: {Output()}");
            }

            try
            {
                if ((await http.GetAsync(new Uri(Portal, "account/signin"))).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Still starting.
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException("The portal did not answer within two minutes: " + Output());
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
            // A file still held for a moment: the temp folder is cleaned by the OS.
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task OtherPorts_AsTheReadmeSays_PortalAndEmulatorAnswerThere_DataWhereTheReadmeSays()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };

        var signIn = await http.GetAsync(new Uri(Portal, "account/signin/demo-okta"));
        var discovery = await http.GetAsync(new Uri($"http://127.0.0.1:{_emulatorPort}/oauth2/default/.well-known/openid-configuration"));

        // The demo Okta tenant's agents are sent to the emulator on the port it was given.
        Assert.True(signIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther, $"{signIn.StatusCode}: {Output()}");
        var authorize = signIn.Headers.Location!;
        Assert.Equal(_emulatorPort, authorize.Port);
        Assert.EndsWith("/oauth2/default/v1/authorize", authorize.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.Contains($":{_emulatorPort}/oauth2/default", await discovery.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var data = Path.Combine(RepositoryRoot(), "src", "Portal.Web", ".portal-data");
        Assert.True(File.Exists(Path.Combine(data, "portal.db")), "The demo's data is in src/Portal.Web/.portal-data/, as the README says.");
        Assert.True(Directory.GetFiles(data).Max(File.GetLastWriteTimeUtc) >= _startedAt, "Written by this run, not left from an earlier one.");
        Assert.False(Directory.Exists(Path.Combine(_scratch, ".portal-data")), "Not in the directory the command was typed in.");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Portal.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Portal.sln not found above the test folder.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
