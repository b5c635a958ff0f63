using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Recovery;

/// <summary>Sends one composed notice through a tenant's relay; throws <see cref="NoticeRelayException"/> with a reason code when it cannot.</summary>
public interface INoticeRelay
{
    Task SendAsync(TenantSettings tenant, MimeMessage message, CancellationToken ct);
}

/// <summary>Why a notice did not leave: a reason code for the audit (never the relay's words, which may echo the address).</summary>
public sealed class NoticeRelayException(string code, Exception? inner = null) : Exception("The recovery notice could not be sent: " + code, inner)
{
    public string Code { get; } = code;
}

/// <summary>The tenant's SMTP relay (<c>Recovery:Notices:Smtp</c>) with MailKit: one connection per notice, TLS as configured.</summary>
public sealed class SmtpNoticeRelay(TenantSecrets secrets) : INoticeRelay
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public async Task SendAsync(TenantSettings tenant, MimeMessage message, CancellationToken ct)
    {
        var relay = tenant.Recovery.Notices.Smtp;
        var security = relay.Security.ToUpperInvariant() switch
        {
            "SSLONCONNECT" => SecureSocketOptions.SslOnConnect,
            "NONE" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(relay.Host.Trim(), relay.EffectivePort, security, timeout.Token);
            if (!string.IsNullOrWhiteSpace(relay.UserName))
            {
                await client.AuthenticateAsync(relay.UserName, secrets.Resolve(tenant, TenantSecret.RecoveryNoticeRelay), timeout.Token);
            }

            await client.SendAsync(message, timeout.Token);
            await client.DisconnectAsync(quit: true, CancellationToken.None);
        }
        catch (AuthenticationException ex)
        {
            throw new NoticeRelayException("relay_auth_refused", ex);
        }
        catch (SmtpCommandException ex)
        {
            throw new NoticeRelayException(ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted ? "relay_recipient_refused" : "relay_refused", ex);
        }
        catch (SslHandshakeException ex)
        {
            throw new NoticeRelayException("relay_tls_failed", ex);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or InvalidOperationException)
        {
            throw new NoticeRelayException("relay_unreachable", ex);
        }
    }
}
