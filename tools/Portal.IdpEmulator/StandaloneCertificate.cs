using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portal.IdpEmulator;

/// <summary>
/// The certificate of a standalone emulator started on an <c>https://</c> URL: self-signed, made at start-up for the
/// URL's address, never stored with its key. Its public half is written to a PEM file together with the system's CA
/// bundle, so that a portal (or any OpenSSL client) trusts the emulator through <c>SSL_CERT_FILE</c> and still
/// trusts everything else.
/// </summary>
internal static class StandaloneCertificate
{
    private const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";

    public static X509Certificate2 Create(Uri url)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={url.Host}, O=Portal IdP emulator", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(url.Host, out var address))
        {
            names.AddIpAddress(address);
        }
        else
        {
            names.AddDnsName(url.Host);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        // Kestrel needs the key in a form the platform's TLS can use: a PKCS#12 round trip, kept in memory only.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Writes the certificate, then the system's CA bundle when there is one, to <paramref name="path"/>.</summary>
    public static async Task WriteTrustFileAsync(X509Certificate2 certificate, string path)
    {
        var pem = certificate.ExportCertificatePem() + "\n";
        if (File.Exists(SystemBundle))
        {
            pem += await File.ReadAllTextAsync(SystemBundle);
        }

        await File.WriteAllTextAsync(path, pem);
    }
}
