using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.StepUp;

/// <summary>What the agent reads out for one step-up: the link and its short code.</summary>
public sealed record StepUpHandoverValue(Uri Link, string Code)
{
    /// <summary>The link's token, which finds the link's record (wrong codes typed, opened or not).</summary>
    public string Token => Link.Segments[^1];

    public override string ToString() => "StepUpHandoverValue { [redacted] }";
}

/// <summary>
/// Keeps a step-up's link and code in the starting agent's browser, never on the server: an encrypted, HttpOnly
/// cookie scoped to that step-up's page and bound to the agent session, living as long as the step-up. So the
/// agent's page can be reloaded (Post/Redirect/Get, "Check now") and still show them, to resend or read again.
/// </summary>
public sealed class StepUpHandover(IDataProtectionProvider protection, IOptions<WebOptions> web, TimeProvider clock)
{
    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("Portal.StepUp.AgentHandover.v1").ToTimeLimitedDataProtector();

    private string CookieName => web.Value.RequireHttps ? "__Secure-portal-stepup-show" : "portal-stepup-show";

    public void Keep(HttpResponse response, AgentContext agent, string pendingId, StepUpStarted started, DateTimeOffset expiresAt)
    {
        var payload = JsonSerializer.Serialize(new Payload(agent.SessionId, pendingId, started.Link.AbsoluteUri, started.ShortCode));
        response.Cookies.Append(CookieName, _protector.Protect(payload, expiresAt), new CookieOptions
        {
            HttpOnly = true,
            Secure = web.Value.RequireHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/verification/pending/" + pendingId,
            MaxAge = expiresAt - clock.GetUtcNow(),
            IsEssential = true,
        });
    }

    /// <summary>The link and code of this step-up, when the request carries them for this agent session; else null.</summary>
    public StepUpHandoverValue? Read(HttpRequest request, AgentContext agent, string pendingId)
    {
        if (!request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            var payload = JsonSerializer.Deserialize<Payload>(_protector.Unprotect(value));
            return payload is not null && payload.Session == agent.SessionId && payload.Pending == pendingId && Uri.TryCreate(payload.Link, UriKind.Absolute, out var link)
                ? new StepUpHandoverValue(link, payload.Code)
                : null;
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            return null;
        }
    }

    private sealed record Payload(string Session, string Pending, string Link, string Code);
}
