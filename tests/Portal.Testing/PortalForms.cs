using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Testing;

/// <summary>What a test reads from the portal's pages and posts back to it, as a browser would.</summary>
public static partial class PortalForms
{
    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string FormToken(string html)
    {
        var match = TokenPattern().Match(html);
        Assert.True(match.Success, "The page has no antiforgery token.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static string HiddenValue(string html, string name)
    {
        var match = new Regex($"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Match(html);
        Assert.True(match.Success, $"The page has no hidden field {name}.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string token, params (string Name, string Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(fields);
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", token));
        return await client.PostAsync(path, new FormUrlEncodedContent(values));
    }

    /// <summary>
    /// Follows a POST's Post/Redirect/Get as a browser does: a 303 must lead to a page under <paramref name="expectedPrefix"/>,
    /// which is returned. Any other answer (refused before the page ran: permission, antiforgery, rate limit) is returned as is.
    /// </summary>
    public static async Task<HttpResponseMessage> FollowSeeOtherAsync(HttpClient client, HttpResponseMessage posted, string expectedPrefix)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(posted);
        if (posted.StatusCode != HttpStatusCode.SeeOther)
        {
            return posted;
        }

        var location = posted.Headers.Location?.OriginalString ?? "";
        Assert.StartsWith(expectedPrefix, location, StringComparison.Ordinal);
        return await client.GetAsync(location);
    }

    /// <summary>The one-time secret a result page shows (its blocks of four joined), or "" when it shows none.</summary>
    public static string SecretOn(string html)
    {
        var match = SecretPattern().Match(html);
        return match.Success ? WebUtility.HtmlDecode(Regex.Replace(match.Groups[1].Value, "<[^>]+>", "")) : "";
    }

    [GeneratedRegex("data-field=\"secret\"[^>]*>(.*?)</p>", RegexOptions.Singleline)]
    private static partial Regex SecretPattern();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
