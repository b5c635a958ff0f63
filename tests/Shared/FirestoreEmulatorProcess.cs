using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Testing;

/// <summary>
/// The official Firestore emulator for the tests that need one: the one named by FIRESTORE_EMULATOR_HOST, or
/// one started here on a free loopback port and stopped (with its Java child) afterwards. When neither is
/// possible the tests fail with the reason; they are never skipped, so a CI without the emulator is noticed.
/// Shared, as a linked source file, by every test project that talks to Firestore.
/// </summary>
public sealed class FirestoreEmulatorProcess : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly StringBuilder _output = new();
    private Process? _process;

    public string Host { get; private set; } = string.Empty;

    /// <summary>A project id of its own: the emulator keeps every project's data apart.</summary>
    public static string NewProjectId() => "portal-test-" + Guid.NewGuid().ToString("N")[..16];

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("FIRESTORE_EMULATOR_HOST");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Host = configured.Trim();
            if (!await AnswersAsync(Host, TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"FIRESTORE_EMULATOR_HOST is {Host}, but no Firestore emulator answers there.");
            }

            return;
        }

        var port = FreePort();
        Host = $"127.0.0.1:{port}";
        var start = new ProcessStartInfo("gcloud")
        {
            ArgumentList = { "emulators", "firestore", "start", $"--host-port={Host}", "--quiet" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("gcloud did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("The Firestore tests need the Firestore emulator: install the Google Cloud CLI with the cloud-firestore-emulator component (and Java), or set FIRESTORE_EMULATOR_HOST.", ex);
        }

        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        if (!await AnswersAsync(Host, StartTimeout))
        {
            var exited = _process.HasExited ? $"gcloud exited with {_process.ExitCode}" : "gcloud is still running";
            await DisposeAsync();
            throw new InvalidOperationException($"The Firestore emulator did not answer on {Host} within {StartTimeout.TotalSeconds} s ({exited}). Its output:\n{Output()}");
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // It has already gone.
            }

            process.Dispose();
            _process = null;
        }

        return Task.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private async Task<bool> AnswersAsync(string host, TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true })
            {
                return false;
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://{host}/"));
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(500);
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
