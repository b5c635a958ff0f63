#if PORTAL_EMBEDDED_EMULATOR
using System.Net.Sockets;
using System.Security.Cryptography;
using Portal.IdpEmulator;

namespace Portal.Web.Platform;

/// <summary>
/// The embedded default: with <c>Portal:Emulator:Enabled</c> (Development only; Debug builds only) the
/// portal starts the IdP emulator in-process on 127.0.0.1, so that `dotnet run` alone gives a working demo.
/// The emulator's API token and client secret are random per run and reach the portal the way real secrets
/// do: through the environment variables the demo tenant's secret references name.
/// </summary>
internal static class EmbeddedEmulator
{
    public const string OktaTokenVariable = "PORTAL_EMULATOR_OKTA_TOKEN";
    public const string ClientSecretVariable = "PORTAL_EMULATOR_CLIENT_SECRET";
    public const string ClientId = "portal-demo";
    public const string EntraAgentSecretVariable = "PORTAL_EMULATOR_ENTRA_AGENT_SECRET";
    public const string GraphSecretVariable = "PORTAL_EMULATOR_GRAPH_SECRET";
    public const string StepUpSecretVariable = "PORTAL_EMULATOR_STEPUP_SECRET";
    public const string EntraAgentClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c01";
    public const string GraphClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c02";
    public const string StepUpClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c03";

    public static void StartIfEnabled(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(EmulatorHostingOptions.Section).Get<EmulatorHostingOptions>() ?? new EmulatorHostingOptions();
        if (!options.Enabled)
        {
            return;
        }

        EnsureSecretFile(builder, "Portal:Web:PseudonymisationKeySecret");
        EnsureSecretFile(builder, "Portal:Web:KeyRingEncryptionKeySecret");
        var token = EnsureVariable(OktaTokenVariable);
        var secret = EnsureVariable(ClientSecretVariable);
        var emulatorOptions = new EmulatorOptions { Url = $"http://127.0.0.1:{options.Port}", OktaApiToken = token };
        emulatorOptions.Clients.Add(new EmulatorClient(ClientId, secret));
        emulatorOptions.EntraAgentClients.Add(new EmulatorClient(EntraAgentClientId, EnsureVariable(EntraAgentSecretVariable)));
        emulatorOptions.GraphClients.Add(new EmulatorClient(GraphClientId, EnsureVariable(GraphSecretVariable)));
        emulatorOptions.StepUpClients.Add(new EmulatorClient(StepUpClientId, EnsureVariable(StepUpSecretVariable)));
        AddDemoTenantSettings(builder, options.Port);

        EmulatorHost host;
        try
        {
            host = EmulatorHost.StartAsync(emulatorOptions).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or SocketException || ex.InnerException is SocketException)
        {
            throw new InvalidOperationException($"The embedded IdP emulator could not listen on 127.0.0.1:{options.Port}. Free the port or set Portal:Emulator:Port.", ex);
        }

        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton(new DemoInfo(new Uri(host.BaseUrl, "phone")));
        builder.Services.AddHostedService<EmulatorLifetime>();
    }

    /// <summary>
    /// The step-up app of the Okta demo tenant and the whole Entra demo tenant. Added here rather than in
    /// appsettings.Development.json because their secrets exist only while the embedded emulator runs: a
    /// Development host without it (the tests) would otherwise fail validation on secrets it cannot resolve.
    /// </summary>
    private static void AddDemoTenantSettings(WebApplicationBuilder builder, int port)
    {
        var root = $"http://127.0.0.1:{port}/";
        var entraIssuer = $"{root}{EntraDemo.TenantId}/v2.0";
        var tenants = builder.Configuration.GetSection("Portal:Tenants").GetChildren().ToList();
        var okta = tenants.FindIndex(t => t["Id"] == "demo-okta");
        var entra = tenants.FindIndex(t => t["Id"] == "demo-entra");
        entra = entra < 0 ? tenants.Count : entra;
        var settings = new Dictionary<string, string?>
        {
            [$"Portal:Tenants:{entra}:Id"] = "demo-entra",
            [$"Portal:Tenants:{entra}:DisplayName"] = "Demo Org (Entra)",
            [$"Portal:Tenants:{entra}:EmailDomains:0"] = "entra.example",
            [$"Portal:Tenants:{entra}:Idp:Kind"] = "Entra",
            [$"Portal:Tenants:{entra}:Idp:BaseUrl"] = root + "v1.0",
            [$"Portal:Tenants:{entra}:Idp:ApiTokenSecret"] = "env:" + GraphSecretVariable,
            [$"Portal:Tenants:{entra}:Idp:Entra:DirectoryTenantId"] = EntraDemo.TenantId,
            [$"Portal:Tenants:{entra}:Idp:Entra:ClientId"] = GraphClientId,
            [$"Portal:Tenants:{entra}:Idp:Entra:TokenEndpoint"] = $"{root}{EntraDemo.TenantId}/oauth2/v2.0/token",
            [$"Portal:Tenants:{entra}:Reconciliation:Enabled"] = "true",
            [$"Portal:Tenants:{entra}:Reconciliation:PollSeconds"] = "10",
            [$"Portal:Tenants:{entra}:AgentSignIn:Authority"] = entraIssuer,
            [$"Portal:Tenants:{entra}:AgentSignIn:ClientId"] = EntraAgentClientId,
            [$"Portal:Tenants:{entra}:AgentSignIn:ClientSecretSecret"] = "env:" + EntraAgentSecretVariable,
            [$"Portal:Tenants:{entra}:GroupTiers:{EntraDemo.Tier1GroupId}"] = "Tier 1",
            [$"Portal:Tenants:{entra}:GroupTiers:{EntraDemo.Tier2GroupId}"] = "Tier 2",
            [$"Portal:Tenants:{entra}:GroupTiers:{EntraDemo.Tier3GroupId}"] = "Tier 3",
            [$"Portal:Tenants:{entra}:GroupTiers:{EntraDemo.AuditorsGroupId}"] = "Auditor",
            [$"Portal:Tenants:{entra}:GroupTiers:{EntraDemo.Tier3Role}"] = "Tier 3",
            [$"Portal:Tenants:{entra}:StepUp:Authority"] = entraIssuer,
            [$"Portal:Tenants:{entra}:StepUp:ClientId"] = StepUpClientId,
            [$"Portal:Tenants:{entra}:StepUp:ClientSecretSecret"] = "env:" + StepUpSecretVariable,
            [$"Portal:Tenants:{entra}:StepUp:RequiredAcrs:0"] = "c1",
        };
        if (okta >= 0)
        {
            settings[$"Portal:Tenants:{okta}:StepUp:Authority"] = root + "oauth2/callers";
            settings[$"Portal:Tenants:{okta}:StepUp:ClientId"] = StepUpClientId;
            settings[$"Portal:Tenants:{okta}:StepUp:ClientSecretSecret"] = "env:" + StepUpSecretVariable;

            // The demo Okta tenant follows the emulator to whatever port it was given (Portal:Emulator:Port).
            settings[$"Portal:Tenants:{okta}:Idp:BaseUrl"] = root;
            settings[$"Portal:Tenants:{okta}:AgentSignIn:Authority"] = root + "oauth2/default";
        }

        builder.Configuration.AddInMemoryCollection(settings);
    }

    private static string EnsureVariable(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(value))
        {
            value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            Environment.SetEnvironmentVariable(name, value);
        }

        return value;
    }

    private static void EnsureSecretFile(WebApplicationBuilder builder, string setting)
    {
        // The demo's keys live in the local data folder, so pseudonyms and the key ring survive a restart.
        var reference = builder.Configuration[setting];
        if (reference is null || !reference.StartsWith("file:", StringComparison.Ordinal))
        {
            return;
        }

        var path = Path.GetFullPath(reference[5..]);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }
    }

    private sealed class EmulatorLifetime(EmulatorHost host, ILogger<EmulatorLifetime> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            PortalLog.EmulatorRunning(logger, host.BaseUrl);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await host.DisposeAsync();
    }
}
#endif
