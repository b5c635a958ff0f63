using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Portal.Web.Platform;

namespace Portal.Web.Agents;

/// <summary>
/// Hands a value from a POST to the GET page it redirects to (Post/Redirect/Get) through the agent's own browser, never
/// the server: an encrypted (Data Protection, time-limited), HttpOnly, SameSite=Strict cookie scoped to that one page
/// and bound to the agent session. A portal instance keeps nothing, so the GET may land on any instance; a copied URL
/// or another agent's browser reads nothing. Used for what must not be stored: a step-up's link and code, an action's
/// one-time secret, a new signing key (docs/security-decisions.md, "Post/Redirect/Get without storing a secret").
/// </summary>
public sealed class BrowserHandover(IDataProtectionProvider protection, IOptions<WebOptions> web, TimeProvider clock)
{
    /// <summary>Keeps <paramref name="value"/> for <paramref name="path"/> in this agent session's browser until <paramref name="expiresAt"/>.</summary>
    public void Keep<T>(HttpResponse response, string purpose, AgentContext agent, string path, T value, DateTimeOffset expiresAt)
    {
        var envelope = JsonSerializer.Serialize(new Envelope(agent.SessionId, path, JsonSerializer.SerializeToElement(value)));
        response.Cookies.Append(CookieName(purpose), Protector(purpose).Protect(envelope, expiresAt), Options(path, expiresAt - clock.GetUtcNow()));
    }

    /// <summary>The value kept for <paramref name="path"/> when this request carries it for this agent session; else null.</summary>
    public T? Read<T>(HttpRequest request, string purpose, AgentContext agent, string path)
        where T : class
    {
        if (!request.Cookies.TryGetValue(CookieName(purpose), out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return null;
        }

        try
        {
            var envelope = JsonSerializer.Deserialize<Envelope>(Protector(purpose).Unprotect(cookie));
            return envelope is not null && envelope.Session == agent.SessionId && envelope.Path == path ? envelope.Value.Deserialize<T>() : null;
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The value kept for <paramref name="path"/>, read once: when this request carries it for this agent session, the
    /// response also removes it from the browser (<see cref="Forget"/>), so F5 or Back does not show it again; else null,
    /// and the browser is left as it is.
    /// </summary>
    public T? Take<T>(HttpRequest request, HttpResponse response, string purpose, AgentContext agent, string path)
        where T : class
    {
        var value = Read<T>(request, purpose, agent, path);
        if (value is not null)
        {
            Forget(response, purpose, path);
        }

        return value;
    }

    /// <summary>Removes what was kept for <paramref name="path"/> from the browser.</summary>
    public void Forget(HttpResponse response, string purpose, string path) =>
        response.Cookies.Delete(CookieName(purpose), Options(path, null));

    private ITimeLimitedDataProtector Protector(string purpose) =>
        protection.CreateProtector("Portal.BrowserHandover.v1", purpose).ToTimeLimitedDataProtector();

    // The __Secure- prefix makes the browser refuse the cookie from anything but https when https is required.
    private string CookieName(string purpose) => (web.Value.RequireHttps ? "__Secure-portal-" : "portal-") + purpose;

    private CookieOptions Options(string path, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        Secure = web.Value.RequireHttps,
        SameSite = SameSiteMode.Strict,
        Path = path,
        MaxAge = maxAge,
        IsEssential = true,
    };

    private sealed record Envelope(string Session, string Path, JsonElement Value);
}

/// <summary>The redirect of Post/Redirect/Get: 303 makes every browser follow with a GET, so F5 and Back never post again.</summary>
public static class SeeOtherResults
{
    public static StatusCodeResult SeeOther(this ControllerBase controller, string path)
    {
        controller.Response.Headers.Location = path;
        return controller.StatusCode(StatusCodes.Status303SeeOther);
    }
}
