namespace Portal.Idp.Okta;

// Okta's paging (developer.okta.com "Pagination" and "Link header"): a listing answers one page and, when there is
// more, a `Link: <…>; rel="next"` header whose URL carries an opaque `after` cursor. The link is Okta's text, so it is
// followed only when it is on the org's own host (the configured URL, or the canonical one the onboarding check
// found) and on the listing's own path; it is then requested from the configured org URL, so that the credential
// never goes anywhere else. The System Log's reader and the group listing share this check.
internal sealed partial class OktaCallerDirectory
{
    /// <summary>
    /// The request for a <c>next</c> link Okta sent for the listing at <paramref name="relativePath"/> (relative to the
    /// org URL, e.g. <c>api/v1/logs</c>), on the configured org URL; null when the link is on another host, another
    /// path, or is not a plain URL.
    /// </summary>
    private Uri? NextPageUri(string link, string relativePath)
    {
        if (link.Length > MaxPollReferenceLength || link.Any(char.IsControl) || link.Any(char.IsWhiteSpace) || link.Contains('\\', StringComparison.Ordinal)
            || !Uri.TryCreate(link, UriKind.Absolute, out var uri) || !IsTrustedOrigin(uri) || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return null;
        }

        return ListingUri(uri.PathAndQuery, relativePath);
    }

    /// <summary>A path and query as a request on the configured org URL, or null when it is not a query of the listing at <paramref name="relativePath"/>.</summary>
    private Uri? ListingUri(string pathAndQuery, string relativePath)
    {
        var path = new Uri(_baseUrl, relativePath).AbsolutePath;
        if (pathAndQuery.Length > MaxPollReferenceLength || !pathAndQuery.StartsWith(path + "?", StringComparison.Ordinal)
            || pathAndQuery.Contains("..", StringComparison.Ordinal) || pathAndQuery.Contains('#', StringComparison.Ordinal) || pathAndQuery.Contains('\\', StringComparison.Ordinal)
            || pathAndQuery.Any(char.IsControl) || pathAndQuery.Any(char.IsWhiteSpace))
        {
            return null;
        }

        var uri = new Uri(_baseUrl, pathAndQuery);
        return SameOrigin(uri, _baseUrl) && uri.AbsolutePath == path ? uri : null;
    }

    /// <summary>The <c>rel="next"</c> target of a response's Link headers, or null.</summary>
    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            foreach (var part in value.Split(','))
            {
                var pieces = part.Split(';');
                if (pieces.Length >= 2 && pieces.Skip(1).Any(p => p.Trim() is "rel=\"next\"" or "rel=next"))
                {
                    var target = pieces[0].Trim();
                    return target.StartsWith('<') && target.EndsWith('>') ? target[1..^1] : null;
                }
            }
        }

        return null;
    }
}
