using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Testing;

/// <summary>
/// The one way the tests build a portal: the real app over real HTTP on loopback to a real IdP emulator, with its
/// own keys, secrets (environment variables of its own) and store (a SQLite file, or a Firestore emulator project),
/// the clock it is given (shared with the emulator: push expiry, TOTP windows and tokens move together), the
/// tenants it is given (Okta or Entra), served in memory (<c>TestServer</c>) or on a Kestrel socket, and, when it
/// shuts down, the PII scan over everything it stored and logged (<see cref="PiiScan"/>).
/// <see cref="IAsyncLifetime"/>: use it (or a host built on it) as a class fixture so one portal serves a test class.
/// </summary>
public class PortalHost : IAsyncLifetime
{
    /// <summary>The one step-up client every tenant with <see cref="TestTenant.StepUp"/> uses.</summary>
    public const string StepUpClientId = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e03";

    private readonly string _directory;
    private readonly string _variableSuffix;
    private readonly PortalHost? _twin;
    private readonly Dictionary<string, string> _secrets;
    private WebApplicationFactory<Program>? _factory;
    private bool _started;
    private EmulatorHost? _emulator;
    private Uri? _baseUrl;

    /// <summary>A portal with its own emulator, keys and store, on <paramref name="clock"/>.</summary>
    public PortalHost(TimeProvider clock, string directoryPrefix = "portal-tests-")
    {
        Time = clock;
        _directory = Path.Combine(Path.GetTempPath(), directoryPrefix + Guid.NewGuid().ToString("N"));
        _variableSuffix = Guid.NewGuid().ToString("N").ToUpperInvariant();
        _secrets = [];
    }

    /// <summary>
    /// A second instance of the same deployment as <paramref name="twin"/>: the same IdP emulator, tenants, secrets,
    /// keys and clock (start it after the twin). Give both the same shared store through <see cref="Settings"/>.
    /// </summary>
    public PortalHost(PortalHost twin)
    {
        ArgumentNullException.ThrowIfNull(twin);
        _twin = twin;
        Time = twin.Time;
        _directory = Path.Combine(Path.GetTempPath(), "portal-tests-" + Guid.NewGuid().ToString("N"));
        _variableSuffix = twin._variableSuffix;
        _secrets = twin._secrets;
    }

    /// <summary>The portal's and the emulator's clock.</summary>
    public TimeProvider Time { get; }

    public string DataDirectory => _directory;

    /// <summary>The organisations, in the order of their <c>Portal:Tenants:{n}</c> settings (add them before <see cref="InitializeAsync"/>).</summary>
    public List<TestTenant> Tenants { get; } = [];

    /// <summary>Only for the tests of the PII scan itself: they plant leaks, so the shutdown scan is not run.</summary>
    public bool PlantsLeaksOnPurpose { get; init; }

    /// <summary>Every log line of the portal, at Debug and above, kept for the PII scan (off: the portal logs nowhere, and nothing is scanned).</summary>
    public bool CaptureLogs { get; init; } = true;

    /// <summary>Served on a Kestrel socket on loopback (<see cref="BaseUrl"/>) for a real browser, instead of in memory.</summary>
    public bool UseKestrel { get; init; }

    /// <summary>
    /// The test settings: https required, the connection check at start-up and the background reconciliation off
    /// (tests drive them themselves). Off: the demo's settings (plain http on localhost for a browser).
    /// </summary>
    public bool TestDefaults { get; init; } = true;

    public ConcurrentQueue<string> LogLines { get; } = new();

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    public WebApplicationFactory<Program> Factory => _factory ?? throw new InvalidOperationException("Not started.");

    public IServiceProvider Services => Factory.Services;

    public IDocumentStore Store => Factory.Services.GetRequiredService<IDocumentStore>();

    /// <summary>The portal's address on Kestrel, <c>http://localhost:{port}/</c>.</summary>
    public Uri BaseUrl => _baseUrl ?? throw new InvalidOperationException("Not started on Kestrel.");

    /// <summary>Extra settings a test class needs (applied over the defaults).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    /// <summary>Settings applied over the defaults once the emulator's address is known.</summary>
    public Func<EmulatorHost, Dictionary<string, string?>>? ExtraSettings { get; init; }

    /// <summary>How long the emulator's pushes wait (its default, Okta's five minutes, when null).</summary>
    public TimeSpan? EmulatorPushLifetime { get; set; }

    /// <summary>The host environment (Development unless a test is about production behaviour).</summary>
    public string EnvironmentName { get; set; } = "Development";

    /// <summary>Changes to the portal's services after its own registrations (e.g. a decorator around the store).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>A secret of this deployment (random, made once), e.g. the Entra agent client's for a test that redeems a code itself.</summary>
    public string Secret(string name)
    {
        lock (_secrets)
        {
            if (!_secrets.TryGetValue(name, out var value))
            {
                value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
                _secrets[name] = value;
            }

            return value;
        }
    }

    public async Task InitializeAsync()
    {
        if (Tenants.Count == 0)
        {
            Tenants.AddRange(_twin?.Tenants ?? DefaultTenants());
        }

        Directory.CreateDirectory(_directory);
        var keyDirectory = _twin?.DataDirectory ?? _directory;
        var keyFile = Path.Combine(keyDirectory, "pseudonymisation.key");
        var keyRingFile = Path.Combine(keyDirectory, "keyring.key");
        if (_twin is not null)
        {
            _emulator = _twin.Emulator;
        }
        else
        {
            _emulator = await EmulatorHost.StartAsync(EmulatorOptions());
            await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            await File.WriteAllTextAsync(keyRingFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }

        var settings = new Dictionary<string, string?> { ["Portal:Emulator:Enabled"] = "false" };
        if (TestDefaults)
        {
            // Off where tests count IdP requests; ConnectionCheckTests turn it on.
            settings["Portal:Tenancy:ConnectionCheckAtStartup"] = "false";

            // The demo tenant reads its IdP log in the background (appsettings.Development.json); the tests that are
            // about it drive each reading themselves (ReconciliationTests).
            settings["Portal:Tenancy:ReconciliationInBackground"] = "false";
        }

        if (EnvironmentName == "Development")
        {
            // As in `dotnet run`'s demo, the first organisation of a Development portal is the demo Okta org
            // (DemoTenants.Okta: its name, e-mail domain, group tiers, required MFA, API token id, IdP-log reading and the
            // recovery notices' relay to the emulator's mail sink, whose messages tests read in Emulator.State.Mailbox);
            // the test's own tenant settings below override it.
            var demo = DemoTenants.Okta(Emulator.BaseUrl, new DemoSecretReferences(Variable("OKTA"), Variable("AGENT_" + (Tenants.FirstOrDefault()?.Id ?? DemoTenants.OktaTenantId))), Emulator.MailSinkPort);
            foreach (var (key, value) in demo)
            {
                settings["Portal:Tenants:0:" + key] = value;
            }
        }

        settings["Portal:Web:RequireHttps"] = TestDefaults ? "true" : "false";
        settings["Portal:Web:PseudonymisationKeySecret"] = "file:" + keyFile;
        settings["Portal:Web:KeyRingEncryptionKeySecret"] = "file:" + keyRingFile;
        settings["Portal:Storage:Provider"] = "Sqlite";
        settings["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db");
        for (var i = 0; i < Tenants.Count; i++)
        {
            AddTenantSettings(settings, $"Portal:Tenants:{i}:", Tenants[i]);
        }

        foreach (var (key, value) in Settings.Concat(ExtraSettings?.Invoke(Emulator) ?? []))
        {
            settings[key] = value;
        }

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment(EnvironmentName);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging =>
            {
                if (CaptureLogs)
                {
                    logging.AddProvider(new CapturingLoggerProvider(LogLines)).SetMinimumLevel(LogLevel.Debug);
                }
                else
                {
                    logging.ClearProviders();
                }
            });
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(Time);
                ConfigureServices?.Invoke(services);
            });
        });
        _factory = factory;
        if (UseKestrel)
        {
            factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
            var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("The portal did not bind an address.");
            _baseUrl = new UriBuilder(Uri.UriSchemeHttp, "localhost", new Uri(address).Port, "/").Uri;
        }
        else
        {
            _ = factory.Server;
        }

        _started = true;
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_started && CaptureLogs && !PlantsLeaksOnPurpose)
            {
                var tenants = Factory.Services.GetRequiredService<Portal.Web.Tenancy.ITenantCatalog>().All.Select(t => t.Id).ToList();
                await PiiScan.AssertCleanAsync(Store, tenants, _directory, LogLines, Emulator.State, FirestoreUnderScan());
            }
        }
        finally
        {
            await ReleaseAsync();
        }
    }

    /// <summary>A browser at the in-memory server: no automatic redirects, cookies kept, https://localhost.</summary>
    public HttpClient NewClient() => Factory.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
        HandleCookies = true,
    });

    /// <summary>A browser whose cookies live in <paramref name="cookies"/>: share the jar between two instances to be one agent on both.</summary>
    public HttpClient NewClient(CookieContainer cookies) =>
        Factory.CreateDefaultClient(new Uri("https://localhost"), new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(cookies));

    /// <summary>Keeps every record in the Firestore emulator, in a project of its own (share it with a twin for one deployment on two instances).</summary>
    public PortalHost UseFirestore(string emulatorHost, string projectId)
    {
        Settings["Portal:Storage:Provider"] = "Firestore";
        Settings["Portal:Storage:Firestore:ProjectId"] = projectId;
        Settings["Portal:Storage:Firestore:EmulatorHost"] = emulatorHost;
        return this;
    }

    /// <summary>The Firestore emulator and project this host keeps its records in, for the PII scan; null on SQLite.</summary>
    public (string Host, string ProjectId)? FirestoreUnderScan() =>
        Settings.GetValueOrDefault("Portal:Storage:Provider") == "Firestore"
        && Settings.GetValueOrDefault("Portal:Storage:Firestore:EmulatorHost") is { } host
        && Settings.GetValueOrDefault("Portal:Storage:Firestore:ProjectId") is { } project
            ? (host, project)
            : null;

    /// <summary>
    /// Runs the agent's OIDC code flow (with PKCE) at the emulator up to the portal's sign-in callback, picking
    /// <paramref name="agentId"/> on the IdP's page, and returns the portal's answer to the callback.
    /// </summary>
    public async Task<HttpResponseMessage> SignInCallbackAsync(string tenantId, string authorizePrefix, string agentId, HttpClient client, Func<string, string>? rewriteCallbackPath = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var challenge = await client.GetAsync(new Uri($"/account/signin/{tenantId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(authorizePrefix, authorize.ToString(), StringComparison.Ordinal);

        var form = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = agentId;
        using var browserAtIdp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var content = new FormUrlEncodedContent(form);
        var picked = await browserAtIdp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), content);
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var callback = picked.Headers.Location!;
        Assert.Equal("localhost", callback.Host);

        Assert.Equal($"/signin-oidc/{tenantId}", callback.AbsolutePath);
        return await client.GetAsync(new Uri((rewriteCallbackPath ?? (p => p))(callback.AbsolutePath) + callback.Query, UriKind.Relative));
    }

    /// <summary>The organisations of a host whose test gave it none (read when it starts, so settings made before that count).</summary>
    protected virtual IEnumerable<TestTenant> DefaultTenants() => [];

    private EmulatorOptions EmulatorOptions()
    {
        var options = new EmulatorOptions { OktaApiToken = Secret("OKTA"), TimeProvider = Time };
        if (EmulatorPushLifetime is { } pushLifetime)
        {
            options.PushLifetime = pushLifetime;
        }

        foreach (var tenant in Tenants)
        {
            if (tenant.Idp == TestIdp.Okta)
            {
                options.Clients.Add(new EmulatorClient(tenant.AgentClientId, Secret("AGENT_" + tenant.Id)) { AssertionKey = tenant.ClientAssertionKey });
            }
            else
            {
                options.EntraAgentClients.Add(new EmulatorClient(tenant.AgentClientId, Secret("AGENT_" + tenant.Id)));
                options.GraphClients.Add(new EmulatorClient(GraphClientOf(tenant), Secret("GRAPH_" + tenant.Id)));
                if (!options.GraphClients.Any(c => c.ClientId == MfaConnector.AppId))
                {
                    options.GraphClients.Add(new EmulatorClient(MfaConnector.AppId, Secret("MFACONNECTOR")));
                }
            }
        }

        if (Tenants.Any(t => t.StepUp))
        {
            options.StepUpClients.Add(new EmulatorClient(StepUpClientId, Secret("STEPUP")));
        }

        return options;
    }

    private static string GraphClientOf(TestTenant tenant) =>
        tenant.GraphClientId ?? throw new InvalidOperationException($"The Entra tenant {tenant.Id} needs a Graph client id.");

    private void AddTenantSettings(Dictionary<string, string?> settings, string prefix, TestTenant tenant)
    {
        settings[prefix + "Id"] = tenant.Id;
        if (tenant.DisplayName is not null)
        {
            settings[prefix + "DisplayName"] = tenant.DisplayName;
        }

        for (var i = 0; i < tenant.EmailDomains.Count; i++)
        {
            settings[$"{prefix}EmailDomains:{i}"] = tenant.EmailDomains[i];
        }

        string issuer;
        if (tenant.Idp == TestIdp.Okta)
        {
            issuer = Emulator.OktaIssuer.ToString();
            settings[prefix + "Idp:BaseUrl"] = Emulator.BaseUrl.ToString();
            settings[prefix + "Idp:ApiTokenSecret"] = Variable("OKTA");
        }
        else
        {
            issuer = Emulator.EntraIssuer().ToString();
            settings[prefix + "Idp:Kind"] = "Entra";
            settings[prefix + "Idp:BaseUrl"] = new Uri(Emulator.BaseUrl, "v1.0").ToString();
            settings[prefix + "Idp:ApiTokenSecret"] = Variable("GRAPH_" + tenant.Id);
            settings[prefix + "Idp:Entra:DirectoryTenantId"] = EntraDemo.TenantId;
            settings[prefix + "Idp:Entra:ClientId"] = GraphClientOf(tenant);
            settings[prefix + "Idp:Entra:TokenEndpoint"] = new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/v2.0/token").ToString();
            if (tenant.EntraPush)
            {
                settings[prefix + "Idp:Entra:PushConnector:Enabled"] = "true";
                settings[prefix + "Idp:Entra:PushConnector:ClientSecretSecret"] = Variable("MFACONNECTOR");
                settings[prefix + "Idp:Entra:PushConnector:TokenEndpoint"] = new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/token").ToString();
                settings[prefix + "Idp:Entra:PushConnector:ConnectorEndpoint"] = new Uri(Emulator.BaseUrl, "StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication").ToString();
            }
        }

        settings[prefix + "AgentSignIn:Authority"] = issuer;
        settings[prefix + "AgentSignIn:ClientId"] = tenant.AgentClientId;
        settings[prefix + "AgentSignIn:ClientSecretSecret"] = Variable("AGENT_" + tenant.Id);
        foreach (var (group, tier) in tenant.GroupTiers)
        {
            settings[$"{prefix}GroupTiers:{group}"] = tier;
        }

        for (var i = 0; i < tenant.PrivilegedGroups.Count; i++)
        {
            settings[$"{prefix}PrivilegedGroups:{i}"] = tenant.PrivilegedGroups[i];
        }

        for (var i = 0; i < tenant.ExecutiveGroups.Count; i++)
        {
            settings[$"{prefix}ExecutiveTargets:Groups:{i}"] = tenant.ExecutiveGroups[i];
        }

        if (tenant.StepUp)
        {
            settings[prefix + "StepUp:Authority"] = tenant.Idp == TestIdp.Okta ? Emulator.CallerIssuer.ToString() : issuer;
            settings[prefix + "StepUp:ClientId"] = StepUpClientId;
            settings[prefix + "StepUp:ClientSecretSecret"] = Variable("STEPUP");
            for (var i = 0; i < tenant.StepUpRequiredAcrs.Count; i++)
            {
                settings[$"{prefix}StepUp:RequiredAcrs:{i}"] = tenant.StepUpRequiredAcrs[i];
            }
        }
    }

    /// <summary>The secret <paramref name="name"/> in an environment variable of this deployment's own, as a setting's reference to it.</summary>
    private string Variable(string name)
    {
        var variable = $"PORTAL_TEST_{name.Replace('-', '_').ToUpperInvariant()}_{_variableSuffix}";
        Environment.SetEnvironmentVariable(variable, Secret(name));
        return "env:" + variable;
    }

    private async Task ReleaseAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_emulator is not null && _twin is null)
        {
            await _emulator.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment on some systems; the temp folder is cleaned by the OS.
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} {exception}");
    }
}
