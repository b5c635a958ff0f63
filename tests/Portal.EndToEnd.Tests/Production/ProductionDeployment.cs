using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Portal.IdpEmulator;
using Portal.Testing;

namespace Portal.EndToEnd.Tests.Production;

/// <summary>
/// The portal as an operator runs it: the published Release build (<c>dotnet Portal.Web.dll</c>), each instance
/// its own process with <c>ASPNETCORE_ENVIRONMENT=Production</c>, all state in the Firestore emulator, tenants
/// from a JSON file, secrets from files and environment variables, behind a TLS-terminating <see cref="FrontProxy"/>
/// (TrustedProxyHops 1), and the IdP emulator served over https with a certificate the portal trusts only
/// through <c>SSL_CERT_FILE</c>. Two instances serve in turn; a test may kill one, or start another behind a
/// load-balancer front (hops 2). Every line each instance writes is kept for the log assertions.
/// The build is the one <c>test.sh</c> published (<c>PORTAL_PUBLISHED_DIR</c>), or published here when unset.
/// </summary>
public sealed class ProductionDeployment : IAsyncLifetime, IPortalSite
{
    public const string TenantId = "demo-okta";
    public const string TenantName = "Demo Org (Okta)";

    /// <summary>The only address the tenant's IP allow-list admits.</summary>
    public static readonly IPAddress AllowedAddress = IPAddress.Loopback;

    /// <summary>Another loopback address, outside the allow-list: a client on a network the tenant did not list.</summary>
    public static readonly IPAddress RefusedAddress = IPAddress.Parse("127.0.0.2");

    private const string AgentClientId = "portal-production";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-production-" + Guid.NewGuid().ToString("N"));
    private readonly FirestoreEmulatorProcess _firestore = new();
    private readonly List<PortalInstance> _instances = [];
    private readonly List<FrontProxy> _fronts = [];
    private readonly Dictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private TestCertificateAuthority? _authority;
    private EmulatorHost? _emulator;
    private FrontProxy? _front;
    private string _publishedDirectory = "";
    private string _tenantsFile = "";

    public string ProjectId { get; } = FirestoreEmulatorProcess.NewProjectId();

    /// <summary>The folder of the published build the instances run.</summary>
    public string PublishedDirectory => _publishedDirectory;

    public TestCertificateAuthority Authority => _authority ?? throw new InvalidOperationException("Not started.");

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    /// <summary>Cloud Run's front: https, hops 1.</summary>
    public FrontProxy Front => _front ?? throw new InvalidOperationException("Not started.");

    public IReadOnlyList<PortalInstance> Instances => _instances;

    /// <summary>
    /// The trace ids of every request the deployment saw: those every front added, and those of the probes and direct
    /// requests that reach an instance without a front (an instance still starting logs its failed readiness check
    /// inside the probe's request).
    /// </summary>
    public IEnumerable<string> TraceIds => _fronts.SelectMany(f => f.TraceIds).Concat(_instances.SelectMany(i => i.TraceIds));

    public Uri BaseUrl => Front.PublicUrl;

    public Uri EmulatorBaseUrl => Emulator.BaseUrl;

    public bool ServedWithTestCertificate => true;

    /// <summary>Values that must never appear in a log line: every secret the deployment was given.</summary>
    public IEnumerable<string> Secrets => _secrets.Values;

    public Uri PhoneOf(string login) => new(Emulator.BaseUrl, "phone/" + Uri.EscapeDataString(login));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        await _firestore.InitializeAsync();
        _publishedDirectory = await PublishedBuildAsync(_directory);
        _authority = new TestCertificateAuthority(_directory);

        string Secret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _secrets["OKTA_TOKEN"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(20));
        _secrets["AGENT_CLIENT_SECRET"] = Secret();
        var emulatorOptions = new EmulatorOptions
        {
            Url = "https://127.0.0.1:0",
            Certificate = Authority.ServerCertificate,
            OktaApiToken = _secrets["OKTA_TOKEN"],
        };
        emulatorOptions.Clients.Add(new EmulatorClient(AgentClientId, _secrets["AGENT_CLIENT_SECRET"]));
        _emulator = await EmulatorHost.StartAsync(emulatorOptions);

        // The two keys as Secret Manager volume files, the IdP credentials as environment variables.
        _secrets["PSEUDONYMISATION_KEY"] = Secret();
        _secrets["KEYRING_KEY"] = Secret();
        await File.WriteAllTextAsync(Path.Combine(_directory, "pseudonymisation.key"), _secrets["PSEUDONYMISATION_KEY"]);
        await File.WriteAllTextAsync(Path.Combine(_directory, "keyring.key"), _secrets["KEYRING_KEY"]);
        _tenantsFile = Path.Combine(_directory, "tenants.json");
        await File.WriteAllTextAsync(_tenantsFile, JsonSerializer.Serialize(new
        {
            Tenants = new[]
            {
                new
                {
                    Id = TenantId,
                    DisplayName = TenantName,
                    EmailDomains = new[] { "demo.example" },
                    Idp = new { Kind = "Okta", BaseUrl = Emulator.BaseUrl.ToString(), ApiTokenSecret = "env:OKTA_TOKEN_DEMO" },
                    AgentSignIn = new { Authority = Emulator.OktaIssuer.ToString(), ClientId = AgentClientId, ClientSecretSecret = "env:AGENT_CLIENT_SECRET_DEMO" },
                    // Group names with spaces: the reason tenants come from a file and not from environment variables.
                    GroupTiers = new Dictionary<string, string>
                    {
                        ["Helpdesk Tier 1"] = "Tier 1",
                        ["Helpdesk Tier 3"] = "Tier 3",
                        ["Helpdesk Auditors"] = "Auditor",
                    },
                    IpAllowList = new[] { AllowedAddress + "/32" },
                },
            },
        }));

        _front = await StartFrontAsync(hops: 1);
        await Task.WhenAll(StartInstanceAsync("a", Front), StartInstanceAsync("b", Front));
    }

    /// <summary>A TLS front for <paramref name="hops"/> proxies (1: Cloud Run's own; 2: an external load balancer before it).</summary>
    public async Task<FrontProxy> StartFrontAsync(int hops)
    {
        var front = await FrontProxy.StartAsync(Authority.ServerCertificate, hops);
        _fronts.Add(front);
        return front;
    }

    /// <summary>Starts one more instance of the published build behind <paramref name="front"/>, ready when this returns.</summary>
    public async Task<PortalInstance> StartInstanceAsync(string name, FrontProxy front)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(_publishedDirectory, "Portal.Web.dll") },
            WorkingDirectory = _publishedDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var environment = start.Environment;
        foreach (var key in environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)
            || k.StartsWith("Portal__", StringComparison.Ordinal) || k.StartsWith("PORTAL_", StringComparison.Ordinal)).ToList())
        {
            environment.Remove(key);
        }

        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["SSL_CERT_FILE"] = Authority.TrustBundlePath;
        environment["Portal__Web__PublicBaseUrl"] = front.PublicUrl.GetLeftPart(UriPartial.Authority);
        environment["Portal__Web__TrustedProxyHops"] = front.Hops.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Portal__Web__PseudonymisationKeySecret"] = "file:" + Path.Combine(_directory, "pseudonymisation.key");
        environment["Portal__Web__KeyRingEncryptionKeySecret"] = "file:" + Path.Combine(_directory, "keyring.key");
        environment["Portal__Storage__Provider"] = "Firestore";
        environment["Portal__Storage__Firestore__ProjectId"] = ProjectId;
        environment["Portal__Storage__Firestore__EmulatorHost"] = _firestore.Host;
        environment["Portal__TenantsFile"] = _tenantsFile;
        environment["OKTA_TOKEN_DEMO"] = _secrets["OKTA_TOKEN"];
        environment["AGENT_CLIENT_SECRET_DEMO"] = _secrets["AGENT_CLIENT_SECRET"];

        var instance = new PortalInstance(name, new Uri($"http://127.0.0.1:{port}/"), Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
        lock (_instances)
        {
            _instances.Add(instance);
        }

        await instance.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        front.Add(instance.Address);
        return instance;
    }

    /// <summary>Kills an instance at once (SIGKILL: no graceful shutdown), and the front stops routing to it.</summary>
    public void Kill(PortalInstance instance, FrontProxy? front = null)
    {
        (front ?? Front).Remove(instance.Address);
        instance.Kill();
    }

    public async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            instance.Kill();
            instance.Dispose();
        }

        foreach (var front in _fronts)
        {
            await front.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        _authority?.Dispose();
        await _firestore.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The temp folder is the OS's to clean.
        }
    }

    /// <summary>The folder of the published build: test.sh's, or one published now (as the Dockerfile does).</summary>
    private static async Task<string> PublishedBuildAsync(string scratch)
    {
        var given = Environment.GetEnvironmentVariable("PORTAL_PUBLISHED_DIR");
        if (!string.IsNullOrWhiteSpace(given))
        {
            return File.Exists(Path.Combine(given, "Portal.Web.dll"))
                ? Path.GetFullPath(given)
                : throw new InvalidOperationException($"PORTAL_PUBLISHED_DIR is {given}, which holds no Portal.Web.dll.");
        }

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Portal.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Portal.sln not found above the test folder; set PORTAL_PUBLISHED_DIR to a published build.");
        }

        var output = Path.Combine(scratch, "publish");
        var publish = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(root.FullName, "src", "Portal.Web", "Portal.Web.csproj"), "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", output, "--nologo", "-v", "quiet" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(publish) ?? throw new InvalidOperationException("dotnet publish did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}): {await stdout}{await stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One process of the published build, and every line it wrote to stdout and stderr.</summary>
public sealed class PortalInstance : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _traceIds = new();

    public PortalInstance(string name, Uri address, Process process)
    {
        Name = name;
        Address = address;
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stdout.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    /// <summary>The instance's own address (what Cloud Run's front and probes reach).</summary>
    public Uri Address { get; }

    public IReadOnlyCollection<string> StandardOutput => _stdout;

    public IReadOnlyCollection<string> StandardError => _stderr;

    /// <summary>The trace ids of the requests sent to this instance directly (<see cref="Traced"/>).</summary>
    public IReadOnlyCollection<string> TraceIds => _traceIds;

    public bool HasExited => _process.HasExited;

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Instance {Name} exited with {_process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, _stdout.Concat(_stderr))}");
            }

            try
            {
                using var response = await probe.SendAsync(Traced(new HttpRequestMessage(HttpMethod.Get, new Uri(Address, "health/ready"))));
                if (response.StatusCode == HttpStatusCode.OK)
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
                // Not answering yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Instance {Name} was not ready within {timeout}:{Environment.NewLine}{string.Join(Environment.NewLine, _stdout.Concat(_stderr))}");
    }

    /// <summary>
    /// Gives a request sent straight to this instance (a probe, a misrouted request) a <c>traceparent</c>, as the front
    /// does, and records its trace id, so a line the instance logs while serving it is known to be that request's.
    /// </summary>
    public HttpRequestMessage Traced(HttpRequestMessage request)
    {
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _traceIds.Enqueue(traceId);
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
        return request;
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose() => _process.Dispose();
}
