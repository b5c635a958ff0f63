using Microsoft.Extensions.Logging;

namespace Portal.Idp.Okta;

/// <summary>Creates an <see cref="OktaCallerDirectory"/> per tenant connection over the shared named HttpClient.</summary>
internal sealed class OktaCallerDirectoryFactory(IHttpClientFactory httpClientFactory, OktaServiceAppTokens serviceAppTokens, TimeProvider time, ILoggerFactory loggerFactory) : ICallerDirectoryFactory
{
    public const string HttpClientName = "portal-idp-okta";

    /// <summary>Okta's answers are small; a larger one is refused rather than buffered.</summary>
    private const long MaxResponseBytes = 1024 * 1024;

    public ICallerDirectory Create(IdpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Kind != IdpKind.Okta)
        {
            throw new ArgumentException($"The Okta adapter cannot serve an {connection.Kind} connection (tenant {connection.TenantId}).", nameof(connection));
        }

        var baseUrl = ValidateBaseUrl(connection.BaseUrl);
        OktaCredential credential;
        if (connection.Okta?.ServiceApp is { } app)
        {
            if (string.IsNullOrWhiteSpace(app.ClientId) || app.Scopes.Count == 0)
            {
                throw new ArgumentException($"The Okta service app of tenant {connection.TenantId} needs a client id and at least one scope.", nameof(connection));
            }

            credential = new OktaServiceAppCredential(serviceAppTokens, serviceAppTokens.Register(connection.TenantId, baseUrl, app, connection.ApiToken ?? ""));
        }
        else
        {
            if (string.IsNullOrWhiteSpace(connection.ApiToken) || connection.ApiToken.Any(char.IsControl))
            {
                // The token itself is never part of the message.
                throw new ArgumentException($"The Okta API token of tenant {connection.TenantId} is empty or malformed.", nameof(connection));
            }

            credential = new SswsCredential(connection.ApiToken.Trim());
        }

        var http = httpClientFactory.CreateClient(HttpClientName);
        http.BaseAddress = baseUrl;
        http.MaxResponseContentBufferSize = MaxResponseBytes;
        return new OktaCallerDirectory(http, baseUrl, credential, time, loggerFactory.CreateLogger<OktaCallerDirectory>(), connection.Okta, connection.ReadsAuditLog);
    }

    /// <summary>
    /// The org URL with a trailing slash. Plain http would send the SSWS token in clear text, so it is
    /// accepted only for a loopback host (the emulator).
    /// </summary>
    internal static Uri ValidateBaseUrl(Uri? baseUrl)
    {
        const string Setting = "The Okta base URL setting (Idp:BaseUrl)";
        if (baseUrl is null || !baseUrl.IsAbsoluteUri)
        {
            throw new ArgumentException($"{Setting} must be an absolute URL such as https://your-org.okta.com/.", nameof(baseUrl));
        }

        var isHttps = string.Equals(baseUrl.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);
        var isLoopbackHttp = string.Equals(baseUrl.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) && baseUrl.IsLoopback;
        if (!isHttps && !isLoopbackHttp)
        {
            throw new ArgumentException($"{Setting} must use https (plain http is accepted only for a loopback emulator).", nameof(baseUrl));
        }

        if (baseUrl.UserInfo.Length > 0 || baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0)
        {
            throw new ArgumentException($"{Setting} must not carry credentials, a query or a fragment.", nameof(baseUrl));
        }

        var text = baseUrl.GetLeftPart(UriPartial.Path);
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }
}
