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
using Portal.Web.Infrastructure;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The portal on a real Kestrel socket on loopback, wired to a real IdP emulator on another loopback port,
/// on its own SQLite file, on the real clock (the browser's scripts count real seconds). Plain http on
/// <c>localhost</c>: the development-only setting that lets Chromium keep the portal's cookies without TLS.
/// </summary>
public sealed class PortalServer : IAsyncLifetime
{
    public const string TenantId = "demo-okta";
    public const string TenantName = "Demo Org (Okta)";
    private const string ClientId = "portal-e2e";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly string _variableSuffix = Guid.NewGuid().ToString("N").ToUpperInvariant();
    private WebApplicationFactory<Program>? _factory;
    private EmulatorHost? _emulator;
    private Uri? _baseUrl;

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    /// <summary>The portal's address, <c>http://localhost:{port}/</c>.</summary>
    public Uri BaseUrl => _baseUrl ?? throw new InvalidOperationException("Not started.");

    public Uri PhoneOf(string login) => new(Emulator.BaseUrl, "phone/" + Uri.EscapeDataString(login));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var emulatorOptions = new EmulatorOptions { OktaApiToken = token };
        emulatorOptions.Clients.Add(new EmulatorClient(ClientId, secret));
        _emulator = await EmulatorHost.StartAsync(emulatorOptions);

        var tokenVariable = "PORTAL_E2E_OKTA_TOKEN_" + _variableSuffix;
        var secretVariable = "PORTAL_E2E_CLIENT_SECRET_" + _variableSuffix;
        Environment.SetEnvironmentVariable(tokenVariable, token);
        Environment.SetEnvironmentVariable(secretVariable, secret);
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
            ["Portal:Tenants:0:Idp:ApiTokenSecret"] = "env:" + tokenVariable,
            ["Portal:Tenants:0:AgentSignIn:Authority"] = Emulator.OktaIssuer.ToString(),
            ["Portal:Tenants:0:AgentSignIn:ClientId"] = ClientId,
            ["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = "env:" + secretVariable,
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
            builder.ConfigureTestServices(services => services.AddSingleton(new DemoInfo(phones)));
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
