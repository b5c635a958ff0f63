using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Portal.IdpEmulator;

/// <summary>Runs the emulator on its own: <c>dotnet run --project tools/Portal.IdpEmulator</c>.</summary>
internal static class Program
{
    public static async Task Main()
    {
        var token = Environment.GetEnvironmentVariable("EMULATOR_OKTA_API_TOKEN");
        var secret = Environment.GetEnvironmentVariable("EMULATOR_CLIENT_SECRET");

        // EMULATOR_TENANTS_FILE: where to write the demo Okta org as a portal tenants file (Portal:TenantsFile), for a
        // portal run apart from the emulator (bench/http.sh). Its secret references name the two variables above, which
        // the portal's process must then have too.
        var tenantsFile = Environment.GetEnvironmentVariable("EMULATOR_TENANTS_FILE");
        if (!string.IsNullOrEmpty(tenantsFile) && (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(secret)))
        {
            await Console.Error.WriteLineAsync("EMULATOR_TENANTS_FILE needs EMULATOR_OKTA_API_TOKEN and EMULATOR_CLIENT_SECRET set: the tenants file refers the portal to them.");
            Environment.ExitCode = 2;
            return;
        }

        var options = new EmulatorOptions
        {
            // EMULATOR_URL lets a second emulator run beside a developer's (bench/http.sh starts its own).
            Url = Environment.GetEnvironmentVariable("EMULATOR_URL") is { Length: > 0 } url ? url : "http://127.0.0.1:5081",
            OktaApiToken = string.IsNullOrEmpty(token) ? Convert.ToHexString(RandomNumberGenerator.GetBytes(20)) : token,
        };
        options.Clients.Add(new EmulatorClient(DemoTenants.OktaAgentClientId, string.IsNullOrEmpty(secret) ? Convert.ToHexString(RandomNumberGenerator.GetBytes(20)) : secret));

        // EMULATOR_URL=https://127.0.0.1:PORT serves TLS with a certificate made now; its trust file goes to
        // EMULATOR_CERT_FILE (default: portal-emulator-ca.pem in the temp folder), for SSL_CERT_FILE.
        string? trustFile = null;
        var listen = new Uri(options.Url);
        if (listen.Scheme == Uri.UriSchemeHttps)
        {
            options.Certificate = StandaloneCertificate.Create(listen);
            trustFile = Environment.GetEnvironmentVariable("EMULATOR_CERT_FILE") is { Length: > 0 } file ? file : Path.Combine(Path.GetTempPath(), "portal-emulator-ca.pem");
            await StandaloneCertificate.WriteTrustFileAsync(options.Certificate, trustFile);
        }

        await using var host = await EmulatorHost.StartAsync(options);
        Console.WriteLine($"IdP emulator listening on {host.BaseUrl}");
        if (trustFile is not null)
        {
            Console.WriteLine($"  TLS certificate (self-signed, made now) and the system CAs: {trustFile}");
            Console.WriteLine($"  Trust it in the portal's process: SSL_CERT_FILE={trustFile}");
        }

        if (!string.IsNullOrEmpty(tenantsFile))
        {
            var okta = DemoTenants.Okta(host.BaseUrl, new DemoSecretReferences("env:EMULATOR_OKTA_API_TOKEN", "env:EMULATOR_CLIENT_SECRET"));
            await File.WriteAllTextAsync(tenantsFile, DemoTenants.TenantsFile(okta));
            Console.WriteLine($"  Portal tenants file (demo-okta): {tenantsFile}");
        }

        Console.WriteLine($"  OIDC issuer:   {host.OktaIssuer}");
        Console.WriteLine($"  Caller phones: {host.BaseUrl}phone");
        Console.WriteLine($"  IdP admin:     {host.BaseUrl}admin");
        // Printed only when generated here, so that a developer can use them; values from the environment are not echoed.
        if (string.IsNullOrEmpty(token))
        {
            Console.WriteLine($"  Okta API token (generated): {options.OktaApiToken}");
        }

        if (string.IsNullOrEmpty(secret))
        {
            Console.WriteLine($"  Client portal-demo secret (generated): {options.Clients[0].ClientSecret}");
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping.");
        }
    }
}
