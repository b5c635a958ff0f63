using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.IdpEmulator;
using Portal.Web.Platform;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The portal on a real Kestrel socket on loopback, wired to a real IdP emulator on another loopback port,
/// on its own SQLite file, on the real clock (the browser's scripts count real seconds) that a test can move
/// forward (<see cref="Clock"/>, shared by portal and emulator). Plain http on <c>localhost</c>: the
/// development-only setting that lets Chromium keep the portal's cookies without TLS. Two tenants, as in the
/// demo: Okta (push, TOTP, step-up at the emulator's caller authority) and Entra (step-up with an ACR).
/// One per test class (a class fixture): starting a portal costs seconds, a test's callers are its own.
/// </summary>
public sealed class PortalServer : IAsyncLifetime, IPortalSite
{
    public const string TenantId = "demo-okta";
    public const string TenantName = "Demo Org (Okta)";
    public const string EntraTenantName = "Demo Org (Entra)";

    /// <summary>The Okta group whose members need a second agent's approval for any action (the demo's admins).</summary>
    public const string PrivilegedGroup = "Okta Administrators";

    private const string ClientId = "portal-e2e";
    private const string EntraAgentClient = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c11";
    private const string GraphClient = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c12";
    private const string StepUpClient = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c13";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly string _variableSuffix = Guid.NewGuid().ToString("N").ToUpperInvariant();
    private WebApplicationFactory<Program>? _factory;
    private EmulatorHost? _emulator;
    private Uri? _baseUrl;

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    public Uri EmulatorBaseUrl => Emulator.BaseUrl;

    public bool ServedWithTestCertificate => false;

    /// <summary>The portal's and the emulator's clock: real time, plus whatever a test moved it on by.</summary>
    public ShiftableClock Clock { get; } = new();

    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Not started.");

    /// <summary>The portal's address, <c>http://localhost:{port}/</c>.</summary>
    public Uri BaseUrl => _baseUrl ?? throw new InvalidOperationException("Not started.");

    public Uri PhoneOf(string login) => new(Emulator.BaseUrl, "phone/" + Uri.EscapeDataString(login));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        static string Secret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var (token, secret, entraAgentSecret, graphSecret, stepUpSecret) = (Secret(), Secret(), Secret(), Secret(), Secret());
        var emulatorOptions = new EmulatorOptions { OktaApiToken = token, TimeProvider = Clock };
        emulatorOptions.Clients.Add(new EmulatorClient(ClientId, secret));
        emulatorOptions.EntraAgentClients.Add(new EmulatorClient(EntraAgentClient, entraAgentSecret));
        emulatorOptions.GraphClients.Add(new EmulatorClient(GraphClient, graphSecret));
        emulatorOptions.StepUpClients.Add(new EmulatorClient(StepUpClient, stepUpSecret));
        _emulator = await EmulatorHost.StartAsync(emulatorOptions);

        string Variable(string name, string value)
        {
            var variable = $"PORTAL_E2E_{name}_{_variableSuffix}";
            Environment.SetEnvironmentVariable(variable, value);
            return "env:" + variable;
        }

        var keyFile = Path.Combine(_directory, "pseudonymisation.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var keyRingFile = Path.Combine(_directory, "keyring.key");
        await File.WriteAllTextAsync(keyRingFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        var settings = new Dictionary<string, string?>
        {
            ["Portal:Emulator:Enabled"] = "false",
            ["Portal:Web:RequireHttps"] = "false",
            ["Portal:Web:PseudonymisationKeySecret"] = "file:" + keyFile,
            ["Portal:Web:KeyRingEncryptionKeySecret"] = "file:" + keyRingFile,
            ["Portal:Storage:Provider"] = "Sqlite",
            ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db"),
            ["Portal:Tenants:0:Id"] = TenantId,
            ["Portal:Tenants:0:DisplayName"] = TenantName,
            ["Portal:Tenants:0:Idp:BaseUrl"] = Emulator.BaseUrl.ToString(),
            ["Portal:Tenants:0:Idp:ApiTokenSecret"] = Variable("OKTA", token),
            ["Portal:Tenants:0:AgentSignIn:Authority"] = Emulator.OktaIssuer.ToString(),
            ["Portal:Tenants:0:AgentSignIn:ClientId"] = ClientId,
            ["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = Variable("AGENT", secret),
            ["Portal:Tenants:0:StepUp:Authority"] = Emulator.CallerIssuer.ToString(),
            ["Portal:Tenants:0:StepUp:ClientId"] = StepUpClient,
            ["Portal:Tenants:0:StepUp:ClientSecretSecret"] = Variable("STEPUP", stepUpSecret),
            ["Portal:Tenants:0:PrivilegedGroups:0"] = PrivilegedGroup,

            ["Portal:Tenants:1:Id"] = "demo-entra",
            ["Portal:Tenants:1:DisplayName"] = EntraTenantName,
            ["Portal:Tenants:1:Idp:Kind"] = "Entra",
            ["Portal:Tenants:1:Idp:BaseUrl"] = new Uri(Emulator.BaseUrl, "v1.0").ToString(),
            ["Portal:Tenants:1:Idp:ApiTokenSecret"] = Variable("GRAPH", graphSecret),
            ["Portal:Tenants:1:Idp:Entra:DirectoryTenantId"] = EntraDemo.TenantId,
            ["Portal:Tenants:1:Idp:Entra:ClientId"] = GraphClient,
            ["Portal:Tenants:1:Idp:Entra:TokenEndpoint"] = new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/v2.0/token").ToString(),
            ["Portal:Tenants:1:AgentSignIn:Authority"] = Emulator.EntraIssuer().ToString(),
            ["Portal:Tenants:1:AgentSignIn:ClientId"] = EntraAgentClient,
            ["Portal:Tenants:1:AgentSignIn:ClientSecretSecret"] = Variable("ENTRAAGENT", entraAgentSecret),
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.Tier1GroupId}"] = "Tier 1",
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.Tier3GroupId}"] = "Tier 3",
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.AuditorsGroupId}"] = "Auditor",
            ["Portal:Tenants:1:StepUp:Authority"] = Emulator.EntraIssuer().ToString(),
            ["Portal:Tenants:1:StepUp:ClientId"] = StepUpClient,
            ["Portal:Tenants:1:StepUp:ClientSecretSecret"] = Variable("STEPUP", stepUpSecret),
            ["Portal:Tenants:1:StepUp:RequiredAcrs:0"] = "c1",
        };

        var phones = new Uri(Emulator.BaseUrl, "phone");
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.ClearProviders());

            // The demo banner the embedded emulator adds, pointing at this test's emulator, so the pages are the demo's pages.
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(new DemoInfo(phones));
                services.AddSingleton<TimeProvider>(Clock);
            });
        });
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory = factory;
        factory.StartServer();

        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The portal did not bind an address.");
        var bound = new Uri(address);
        _baseUrl = new UriBuilder(Uri.UriSchemeHttp, "localhost", bound.Port, "/").Uri;
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may hold the file a moment longer; the temp folder is the OS's to clean.
        }
    }
}

/// <summary>Real time plus an offset a test can add to: "ten minutes later" without waiting ten minutes.</summary>
public sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
