using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;

namespace Portal.Idp.Entra;

/// <summary>
/// Attaches the app-only token to Graph requests, and only to requests for the tenant's Graph host: a token
/// sent anywhere else (a redirect target, a next-link on another host) would be a leaked credential.
/// </summary>
internal sealed class GraphBearerProvider(EntraTokenClient tokens, EntraTokenRequest tokenRequest, Uri graphRoot) : IAuthenticationProvider
{
    private const string AuthorizationHeader = "Authorization";

    public async Task AuthenticateRequestAsync(RequestInformation requestInformation, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestInformation);
        var target = requestInformation.URI;
        if (!string.Equals(target.Scheme, graphRoot.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(target.Authority, graphRoot.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var token = await tokens.GetTokenAsync(tokenRequest, cancellationToken);
        requestInformation.Headers.Remove(AuthorizationHeader);
        requestInformation.Headers.Add(AuthorizationHeader, "Bearer " + token);
    }
}
