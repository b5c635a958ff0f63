using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator.Tests;

/// <summary>
/// The emulator run on its own (<c>dotnet Portal.IdpEmulator.dll</c>, as <c>dotnet run --project tools/Portal.IdpEmulator</c>
/// does) on an <c>https://</c> URL: it serves TLS with a certificate it makes at start-up, and the trust file it writes
/// is what a client needs to trust it (issue 10: a production-mode portal can use the standalone emulator).
/// </summary>
public sealed class StandaloneHttpsTests : IDisposable
{
    private readonly string _trustFile = Path.Combine(Path.GetTempPath(), $"emulator-ca-{Guid.NewGuid():N}.pem");
    private Process? _emulator;

    public void Dispose()
    {
        if (_emulator is { HasExited: false })
        {
            _emulator.Kill(entireProcessTree: true);
            _emulator.WaitForExit(10_000);
        }

        _emulator?.Dispose();
        File.Delete(_trustFile);
    }

    [Fact]
    public async Task HttpsUrl_ServesTlsTrustedThroughTheWrittenFileOnly_IssuerIsTheHttpsUrl()
    {
        var baseUrl = await StartAsync("https://127.0.0.1:0");

        Assert.Equal(Uri.UriSchemeHttps, baseUrl.Scheme);
        var written = X509CertificateLoader.LoadCertificate(System.Text.Encoding.ASCII.GetBytes(File.ReadAllText(_trustFile).Split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----"));

        // Trusting exactly the certificate in the file: the handshake succeeds and discovery names the https issuer.
        using var trusting = new HttpClient(new SocketsHttpHandler { SslOptions = TrustOnly(written) });
        var discovery = JsonNode.Parse(await trusting.GetStringAsync(new Uri(baseUrl, "oauth2/default/.well-known/openid-configuration")))!;
        Assert.Equal(new Uri(baseUrl, "oauth2/default").ToString().TrimEnd('/'), discovery["issuer"]!.GetValue<string>());
        Assert.StartsWith("https://127.0.0.1:", discovery["token_endpoint"]!.GetValue<string>(), StringComparison.Ordinal);

        // A client that trusts only the system's CAs refuses it: the certificate is the emulator's own, not a public one.
        using var system = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => system.GetAsync(new Uri(baseUrl, "oauth2/default/.well-known/openid-configuration")));
    }

    private static SslClientAuthenticationOptions TrustOnly(X509Certificate2 certificate) => new()
    {
        CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            CustomTrustStore = { certificate },
            RevocationMode = X509RevocationMode.NoCheck,
        },
    };

    /// <summary>Starts the built emulator as its own process and returns the base URL it prints.</summary>
    private async Task<Uri> StartAsync(string url)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Portal.IdpEmulator.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["EMULATOR_URL"] = url;
        start.Environment["EMULATOR_CERT_FILE"] = _trustFile;
        start.Environment["EMULATOR_OKTA_API_TOKEN"] = "test-token";
        start.Environment["EMULATOR_CLIENT_SECRET"] = "test-secret";
        _emulator = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await _emulator.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            const string Listening = "IdP emulator listening on ";
            if (line.StartsWith(Listening, StringComparison.Ordinal))
            {
                return new Uri(line[Listening.Length..]);
            }
        }

        throw new InvalidOperationException("The emulator stopped before listening: " + await _emulator.StandardError.ReadToEndAsync(timeout.Token));
    }
}
