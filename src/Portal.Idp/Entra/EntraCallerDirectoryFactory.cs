using Microsoft.Extensions.Logging;
using Microsoft.Graph;

namespace Portal.Idp.Entra;

/// <summary>Creates a <see cref="GraphCallerDirectory"/> per tenant connection over the shared named HttpClient.</summary>
internal sealed class EntraCallerDirectoryFactory(IHttpClientFactory httpClientFactory, EntraTokenClient tokens, TimeProvider time, ILoggerFactory loggerFactory) : ICallerDirectoryFactory
{
    public const string HttpClientName = "portal-idp-graph";
    private const string MicrosoftLogin = "https://login.microsoftonline.com/";

    public ICallerDirectory Create(IdpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Kind != IdpKind.Entra)
        {
            throw new ArgumentException($"The Entra adapter cannot serve an {connection.Kind} connection (tenant {connection.TenantId}).", nameof(connection));
        }

        var app = connection.Entra
            ?? throw new ArgumentException($"The Entra connection of tenant {connection.TenantId} has no app registration (directory id, client id).", nameof(connection));
        if (!IsDirectoryId(app.DirectoryTenantId))
        {
            throw new ArgumentException($"The Entra directory id of tenant {connection.TenantId} must be a GUID or a domain name.", nameof(connection));
        }

        if (!Guid.TryParseExact(app.ClientId, "D", out _))
        {
            throw new ArgumentException($"The Entra client id of tenant {connection.TenantId} must be a GUID.", nameof(connection));
        }

        if (string.IsNullOrWhiteSpace(connection.ApiToken) || connection.ApiToken.Any(char.IsControl))
        {
            // The secret itself is never part of the message.
            throw new ArgumentException($"The Entra client secret of tenant {connection.TenantId} is empty or malformed.", nameof(connection));
        }

        var graphRoot = ValidateUrl(connection.BaseUrl, "The Graph base URL setting (Idp:BaseUrl)", asDirectory: true);
        var tokenEndpoint = ValidateUrl(
            app.TokenEndpoint ?? new Uri(MicrosoftLogin + Uri.EscapeDataString(app.DirectoryTenantId) + "/oauth2/v2.0/token"),
            "The Entra token endpoint setting",
            asDirectory: false);
        var version = graphRoot.AbsolutePath.EndsWith("/v1.0/", StringComparison.Ordinal) ? graphRoot : new Uri(graphRoot, "v1.0/");

        var tokenRequest = new EntraTokenRequest(tokenEndpoint, app.ClientId, connection.ApiToken.Trim());
        var auth = new GraphBearerProvider(tokens, tokenRequest, graphRoot);
        var http = httpClientFactory.CreateClient(HttpClientName);
        var graph = new GraphServiceClient(http, auth, version.AbsoluteUri.TrimEnd('/'));
        return new GraphCallerDirectory(graph, time, loggerFactory.CreateLogger<GraphCallerDirectory>(), ct => tokens.GetTokenAsync(tokenRequest, ct), app.ClientId, connection.ReadsAuditLog);
    }

    /// <summary>
    /// An absolute URL (with a trailing slash when it is a root others are resolved against). Plain http would carry the client secret or the token
    /// in clear text, so it is accepted only for a loopback host (the emulator).
    /// </summary>
    internal static Uri ValidateUrl(Uri? url, string setting, bool asDirectory)
    {
        if (url is null || !url.IsAbsoluteUri)
        {
            throw new ArgumentException($"{setting} must be an absolute URL.", nameof(url));
        }

        var isHttps = string.Equals(url.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);
        var isLoopbackHttp = string.Equals(url.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) && url.IsLoopback;
        if (!isHttps && !isLoopbackHttp)
        {
            throw new ArgumentException($"{setting} must use https (plain http is accepted only for a loopback emulator).", nameof(url));
        }

        if (url.UserInfo.Length > 0 || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            throw new ArgumentException($"{setting} must not carry credentials, a query or a fragment.", nameof(url));
        }

        var text = url.GetLeftPart(UriPartial.Path);
        return new Uri(!asDirectory || text.EndsWith('/') ? text : text + "/");
    }

    private static bool IsDirectoryId(string? value) =>
        value is { Length: > 0 and <= 253 }
        && (Guid.TryParseExact(value, "D", out _) || value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'));
}
