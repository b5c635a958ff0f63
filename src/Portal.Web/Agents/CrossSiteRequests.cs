using Microsoft.AspNetCore.Diagnostics;
using Portal.Audit;
using Portal.Web.Platform;

namespace Portal.Web.Agents;

/// <summary>
/// Refuses a state-changing request that a browser says comes from another site (F9; docs/security-requirements.md
/// S4): defence in depth beside the antiforgery token and the SameSite cookies. A browser sends
/// <c>Sec-Fetch-Site</c> and <c>Origin</c> on every POST and a page cannot forge them; a request without either
/// (a script, a SIEM's API client) is left to the token, as before.
/// </summary>
internal sealed partial class CrossSiteRequestMiddleware(RequestDelegate next, IAuditTrail audit, ILogger<CrossSiteRequestMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method)
            || context.Features.Get<IStatusCodeReExecuteFeature>() is not null)
        {
            await next(context);
            return;
        }

        var reason = Refusal(context.Request);
        if (reason is null)
        {
            await next(context);
            return;
        }

        CrossSiteRefused(logger, reason);
        if (AgentContext.From(context.User) is { } agent)
        {
            try
            {
                await audit.RecordAsync(AuditEntries.For(RequestContext.Of(context), agent, "access.cross_site", AuditOutcome.Denied, reason), context.RequestAborted);
            }
            catch (AuditUnavailableException ex)
            {
                AuditFailed(logger, ex.GetType().Name);
            }
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
    }

    /// <summary>Null when the request may go on; else why not.</summary>
    internal static string? Refusal(HttpRequest request)
    {
        // "same-site" is another origin of the same site (a sibling subdomain): not the portal either.
        // A browser that sends Sec-Fetch-Site has said where the request comes from, and that decides: its Origin may be
        // "null" on a same-origin form POST, as Chromium sends under the portal's Referrer-Policy: no-referrer.
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
        {
            return fetchSite is "same-origin" or "none" ? null : "cross_site_fetch";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        // Compared by host and port: behind a TLS-terminating proxy the request's own scheme is http while the
        // browser's origin is https. "null" (a sandboxed or file page) is never the portal.
        return Uri.TryCreate(origin, UriKind.Absolute, out var from) && string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            ? null
            : "cross_site_origin";
    }

    [LoggerMessage(EventId = PortalEvents.CrossSiteRefused, Level = LogLevel.Warning, Message = "State-changing request refused as cross-site ({Reason})")]
    private static partial void CrossSiteRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = PortalEvents.CrossSiteAuditFailed, Level = LogLevel.Error, Message = "The audit store could not record a cross-site refusal ({ErrorType})")]
    private static partial void AuditFailed(ILogger logger, string errorType);
}
