using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace Portal.Web.Platform;

/// <summary>
/// The portal's one public origin, <c>Portal:Web:PublicBaseUrl</c>: every absolute URL the portal writes
/// (OIDC redirect and post-logout URIs, step-up links, the https redirection) is built from it, never from
/// the request's Host header, and a request for any other host is refused. Required outside Development;
/// in Development without it the request's own origin is used (the local demo on http://localhost).
/// </summary>
public sealed class PublicOrigin
{
    public PublicOrigin(IOptions<WebOptions> options)
    {
        Configured = TryParse(options.Value.PublicBaseUrl, out var url) ? url : null;
    }

    /// <summary>The configured public base URL (origin only, ending in <c>/</c>), or null in Development without one.</summary>
    public Uri? Configured { get; }

    /// <summary>
    /// The origin absolute URLs are built from: the configured one, else (Development only) the request's, and for a
    /// request without a Host header there (HTTP/1.0) the loopback.
    /// </summary>
    public Uri Of(HttpContext http) =>
        Configured ?? (http.Request.Host.HasValue ? new Uri($"{http.Request.Scheme}://{http.Request.Host}/") : new Uri("http://localhost/"));

    /// <summary>An absolute URL of the portal for a path starting with <c>/</c>.</summary>
    public string Absolute(HttpContext http, string pathAndQuery) => Join(Of(http), pathAndQuery);

    /// <summary>An absolute URL on <paramref name="origin"/> for a path starting with <c>/</c>.</summary>
    public static string Join(Uri origin, string pathAndQuery) => origin.GetLeftPart(UriPartial.Authority) + pathAndQuery;

    /// <summary>Whether a Host header names the public origin (its port, when written, must be the origin's).</summary>
    public bool IsPublicHost(HostString host)
    {
        if (Configured is null)
        {
            return true;
        }

        return host.HasValue
            && string.Equals(host.Host, Configured.IdnHost, StringComparison.OrdinalIgnoreCase)
            && (host.Port is null || host.Port == Configured.Port);
    }

    /// <summary>An absolute http(s) URL with a host, and nothing after the origin (no path, query or fragment).</summary>
    public static bool TryParse(string? text, out Uri url)
    {
        url = null!;
        if (string.IsNullOrWhiteSpace(text) || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)
            || string.IsNullOrEmpty(parsed.Host) || parsed.AbsolutePath != "/" || parsed.Query.Length > 0
            || parsed.Fragment.Length > 0 || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        url = new Uri(parsed.GetLeftPart(UriPartial.Authority) + "/");
        return true;
    }
}

/// <summary>
/// Refuses a request whose Host header is not the public origin's (400, the host is neither echoed nor
/// logged), and redirects plain http to the public origin when https is required. The health endpoints are
/// exempt from the host check: Cloud Run's probes address the instance, not the public host name.
/// </summary>
internal sealed partial class PublicHostMiddleware(RequestDelegate next, PublicOrigin origin, IOptions<WebOptions> options, ILogger<PublicHostMiddleware> logger)
{
    public static readonly PathString HealthPrefix = new("/health");

    public async Task InvokeAsync(HttpContext context)
    {
        var exempt = context.Request.Path.StartsWithSegments(HealthPrefix)
            || context.Features.Get<IStatusCodeReExecuteFeature>() is not null;
        if (!exempt && !origin.IsPublicHost(context.Request.Host))
        {
            ForeignHost(logger);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Unknown host.", context.RequestAborted);
            return;
        }

        if (!exempt && options.Value.RequireHttps && !context.Request.IsHttps && origin.Configured is { } configured
            && configured.Scheme == Uri.UriSchemeHttps)
        {
            context.Response.Redirect(origin.Absolute(context, context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent()), permanent: true, preserveMethod: true);
            return;
        }

        await next(context);
    }

    [LoggerMessage(EventId = PortalEvents.ForeignHostRefused, Level = LogLevel.Warning, Message = "Request refused: its Host header is not the public base URL's host (Portal:Web:PublicBaseUrl)")]
    private static partial void ForeignHost(ILogger logger);
}
