using System.Diagnostics;
using Portal.Idp;

namespace Portal.Web.Platform;

/// <summary>
/// Where a request came from, as the audit trail and the IdP's challenges need it, and the portal's public origin
/// for the links it builds. Read from the <see cref="HttpContext"/> once at the edge: the services below the
/// controllers never see the HTTP request itself.
/// </summary>
public sealed record RequestContext(string RequestId, string? TraceId, string? ClientAddress, string UserAgent, Uri PublicOrigin)
{
    public static RequestContext Of(HttpContext http) => new(
        http.TraceIdentifier,
        Activity.Current?.TraceId.ToString(),
        http.Connection.RemoteIpAddress?.ToString(),
        http.Request.Headers.UserAgent.ToString(),
        http.RequestServices.GetRequiredService<PublicOrigin>().Of(http));

    /// <summary>What the IdP is told about the agent's browser when it sends a challenge.</summary>
    public ChallengeContext Challenge => new(UserAgent, ClientAddress);

    /// <summary>An absolute URL on the portal's public origin.</summary>
    public string Absolute(string pathAndQuery) => Platform.PublicOrigin.Join(PublicOrigin, pathAndQuery);
}
