#if PORTAL_EMBEDDED_EMULATOR
using System.Net.Sockets;
using System.Security.Cryptography;
using Portal.IdpEmulator;

namespace Portal.Web.Infrastructure;

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
