using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portal.EndToEnd.Tests.Production;

/// <summary>
/// A certificate authority of the run's own, and one server certificate it issued for <c>localhost</c> and
/// <c>127.0.0.1</c>: the TLS front and the IdP emulator serve it. The portal's processes trust the authority the
/// way an operator's would, through <c>SSL_CERT_FILE</c> (<see cref="TrustBundlePath"/>: the system's roots plus
/// this one); the tests' own clients trust it explicitly. Nothing is added to the machine's trust store.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";

    private readonly X509Certificate2 _authority;

    public TestCertificateAuthority(string directory)
    {
        using var authorityKey = RSA.Create(2048);
        var authorityRequest = new CertificateRequest("CN=Portal test authority", authorityKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        _authority = authorityRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        using var issued = serverRequest.Create(_authority, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        // Kestrel on Linux takes the key from an exportable PKCS#12 round trip most reliably.
        ServerCertificate = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);

        TrustBundlePath = Path.Combine(directory, "trust-bundle.pem");
        var system = File.Exists(SystemBundle) ? File.ReadAllText(SystemBundle) : "";
        File.WriteAllText(TrustBundlePath, system + Environment.NewLine + _authority.ExportCertificatePem() + Environment.NewLine);
    }

    /// <summary>The server certificate (with its private key) for <c>localhost</c> and <c>127.0.0.1</c>.</summary>
    public X509Certificate2 ServerCertificate { get; }

    /// <summary>A PEM file of the system's roots and this authority: the portal's <c>SSL_CERT_FILE</c>.</summary>
    public string TrustBundlePath { get; }

    /// <summary>A handler for the tests' own requests: trusts this authority only, sends from <paramref name="from"/> when given.</summary>
    public SocketsHttpHandler CreateHandler(IPAddress? from = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 presented && IsIssuedByThis(presented),
            },
        };
        if (from is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return handler;
    }

    private bool IsIssuedByThis(X509Certificate2 presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(presented);
    }

    public void Dispose()
    {
        ServerCertificate.Dispose();
        _authority.Dispose();
    }
}
