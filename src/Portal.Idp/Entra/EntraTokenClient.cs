using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Portal.Idp.Entra;

/// <summary>One app registration's client-credentials request. <see cref="ClientSecret"/> is never logged.</summary>
internal sealed record EntraTokenRequest(Uri TokenEndpoint, string ClientId, string ClientSecret)
{
    public const string GraphScope = "https://graph.microsoft.com/.default";

    public override string ToString() => $"EntraTokenRequest {{ TokenEndpoint = {TokenEndpoint}, ClientId = {ClientId} }}";
}

/// <summary>An app-only token could not be had; <see cref="Error"/> says why in the portal's terms.</summary>
internal sealed class EntraTokenException(IdpError error) : Exception(error.AgentMessage)
{
    public IdpError Error { get; } = error;
}

/// <summary>
/// Gets app-only Microsoft Graph tokens by client credentials and caches each until five minutes before it
/// expires, so that every Graph call does not cost a round trip to the token endpoint.
/// </summary>
internal sealed class EntraTokenClient(IHttpClientFactory httpClientFactory, TimeProvider time)
{
    public const string HttpClientName = "portal-idp-entra-token";
    internal static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private const int MaxTokenResponseBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset UseUntil)> _cache = new(StringComparer.Ordinal);

    public async Task<string> GetTokenAsync(EntraTokenRequest request, CancellationToken cancellationToken)
    {
        // The secret is part of the key (hashed) so that a rotated secret is used at once, not after the old token expires.
        var key = string.Join('\n', request.TokenEndpoint.AbsoluteUri, request.ClientId, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(request.ClientSecret))));
        if (_cache.TryGetValue(key, out var cached) && time.GetUtcNow() < cached.UseUntil)
        {
            return cached.Token;
        }

        var (token, expiresIn) = await RequestAsync(request, cancellationToken);
        var useUntil = time.GetUtcNow() + expiresIn - RefreshMargin;
        if (expiresIn > RefreshMargin)
        {
            _cache[key] = (token, useUntil);
        }

        return token;
    }

    private async Task<(string Token, TimeSpan ExpiresIn)> RequestAsync(EntraTokenRequest request, CancellationToken cancellationToken)
    {
        using var http = httpClientFactory.CreateClient(HttpClientName);
        http.MaxResponseContentBufferSize = MaxTokenResponseBytes;
        using var form = new FormUrlEncodedContent(
        [
            new("grant_type", "client_credentials"),
            new("client_id", request.ClientId),
            new("client_secret", request.ClientSecret),
            new("scope", EntraTokenRequest.GraphScope),
        ]);

        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync(request.TokenEndpoint, form, cancellationToken);
        }
        catch (HttpRequestException)
        {
            throw new EntraTokenException(Unavailable("token_unreachable"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EntraTokenException(Unavailable("token_timeout"));
        }

        using (response)
        {
            string body;
            try
            {
                body = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (HttpRequestException)
            {
                throw new EntraTokenException(Unavailable("token_unreadable"));
            }

            if (response.IsSuccessStatusCode && TryReadToken(body, out var token, out var expiresIn))
            {
                return (token, expiresIn);
            }

            throw new EntraTokenException(MapFailure(response, body));
        }
    }

    private static bool TryReadToken(string body, out string token, out TimeSpan expiresIn)
    {
        token = "";
        expiresIn = TimeSpan.Zero;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("access_token", out var accessToken) || accessToken.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("expires_in", out var expires))
            {
                return false;
            }

            // expires_in is a number in the v2 endpoint's answer and a string in some older ones.
            var seconds = expires.ValueKind switch
            {
                JsonValueKind.Number when expires.TryGetInt32(out var n) => n,
                JsonValueKind.String when int.TryParse(expires.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
                _ => -1,
            };
            token = accessToken.GetString() ?? "";
            expiresIn = TimeSpan.FromSeconds(seconds);
            return seconds > 0 && token.Length > 0 && !token.Any(char.IsControl);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static IdpError MapFailure(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return new IdpError(IdpErrorKind.RateLimited, "token_rate_limited", "Microsoft's sign-in service is rate-limiting the portal; try again shortly.", response.Headers.RetryAfter?.Delta);
        }

        if (status >= 500 || response.IsSuccessStatusCode)
        {
            return Unavailable("token_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // invalid_client, unauthorized_client, invalid_scope…: the tenant's app settings are wrong or the secret expired.
        var code = "token_refused";
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                && error.GetString() is { Length: > 0 and <= 64 } text && text.All(c => char.IsAsciiLetterLower(c) || c == '_'))
            {
                code = text;
            }
        }
        catch (JsonException)
        {
        }

        return new IdpError(IdpErrorKind.Unauthorized, code, "Microsoft refused the portal's Entra app credentials: check the tenant's client id and secret.");
    }

    private static IdpError Unavailable(string code) =>
        new(IdpErrorKind.Unavailable, code, "Microsoft's sign-in service could not be reached; nothing was changed. Try again shortly.");
}
