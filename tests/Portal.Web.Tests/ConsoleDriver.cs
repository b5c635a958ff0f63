using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Portal.Web.Tests;

/// <summary>Drives the console the way an agent's browser does: forms with antiforgery tokens, no shortcuts.</summary>
public sealed partial class ConsoleDriver(PortalTestHost host, HttpClient browser)
{
    public HttpClient Browser => browser;

    public async Task<string> GetPageAsync(string path)
    {
        var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Looks up a caller and returns the console page that shows them.</summary>
    public async Task<string> LookupAsync(string login)
    {
        var console = await GetPageAsync("/console");
        var response = await PortalTestHost.PostFormAsync(browser, "/console/lookup", PortalTestHost.FormToken(console), ("login", login));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Sends a push from a looked-up caller's page; returns the pending verification's path.</summary>
    public async Task<string> StartPushAsync(string callerPage)
    {
        var form = FormFor(callerPage, "/verification/push");
        var response = await PortalTestHost.PostFormAsync(browser, "/verification/push", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    public async Task<(string State, string? Next)> PollAsync(string pendingPath)
    {
        var page = await GetPageAsync(pendingPath);
        using var request = new HttpRequestMessage(HttpMethod.Post, pendingPath + "/poll");
        request.Headers.Add("Accept", "application/json");
        request.Headers.Add("RequestVerificationToken", PortalTestHost.FormToken(page));
        var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var next = json.RootElement.GetProperty("next");
        return (json.RootElement.GetProperty("state").GetString()!, next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }

    /// <summary>Push, the caller picks the right number on their phone, poll: returns the verification session's path.</summary>
    public async Task<string> VerifyByPushAsync(string login)
    {
        var pending = await StartPushAsync(await LookupAsync(login));
        var push = Assert.Single(host.Emulator.State.PendingPushes(login));
        var page = await GetPageAsync(pending);
        Assert.Contains($">{push.CorrectAnswer}<", page, StringComparison.Ordinal);
        Assert.True(host.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer));
        var (state, next) = await PollAsync(pending);
        Assert.Equal("Approved", state);
        Assert.NotNull(next);
        return next;
    }

    public async Task<HttpResponseMessage> VerifyByTotpAsync(string callerPage, string code)
    {
        var form = FormFor(callerPage, "/verification/totp");
        return await PortalTestHost.PostFormAsync(browser, "/verification/totp", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")), ("code", code));
    }

    /// <summary>
    /// Posts a start to <paramref name="route"/> with the caller reference of the form the page has for
    /// <paramref name="formAction"/> and the factor id given: a crafted start, as a tampered browser would send it.
    /// </summary>
    public async Task<HttpResponseMessage> PostStartAsync(string callerPage, string formAction, string route, string factorId)
    {
        var form = FormFor(callerPage, formAction);
        return await PortalTestHost.PostFormAsync(browser, route, PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", factorId));
    }

    /// <summary>Starts a call-back from a looked-up caller's page (docs/recovery.md); returns the start's response (303 to its page, or a refusal).</summary>
    public Task<HttpResponseMessage> StartCallBackAsync(string callerPage)
    {
        var form = FormFor(callerPage, "/verification/callback");
        return PortalTestHost.PostFormAsync(browser, "/verification/callback", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
    }

    /// <summary>The call-back's code as its page shows it to the agent (digits only), or null when the page shows none.</summary>
    public static string? CallBackCode(string pendingPage) =>
        CallBackCodePattern().Match(pendingPage) is { Success: true } m ? m.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal) : null;

    /// <summary>Posts what the person who answered the call-back said: a code, or (<paramref name="notMe"/>) that they never called.</summary>
    public async Task<HttpResponseMessage> AnswerCallBackAsync(string pendingPath, string? code, bool notMe = false)
    {
        var page = await GetPageAsync(pendingPath);
        (string, string)[] fields = notMe ? [("outcome", "not_me")] : [("code", code ?? "")];
        return await PortalTestHost.PostFormAsync(browser, pendingPath + "/callback", PortalTestHost.FormToken(page), fields);
    }

    public static string VerificationId(string sessionPath) => sessionPath.Split('/').Last();

    /// <summary>Posts an action form with a token taken from any page of the agent's session.</summary>
    public async Task<HttpResponseMessage> ActAsync(string route, string verificationId, params (string Name, string Value)[] fields)
    {
        var token = PortalTestHost.FormToken(await GetPageAsync("/console"));
        return await PostActionAsync(route, token, verificationId, fields);
    }

    public async Task<HttpResponseMessage> ActWithTokenFromAsync(string pagePath, string route, string verificationId, params (string Name, string Value)[] fields)
    {
        var token = PortalTestHost.FormToken(await GetPageAsync(pagePath));
        return await PostActionAsync(route, token, verificationId, fields);
    }

    /// <summary>
    /// Posts an action as the browser does and follows its Post/Redirect/Get to the result page, whose status is the
    /// outcome's. A post refused before the action ran (permission, antiforgery, rate limit) is returned as is.
    /// </summary>
    public async Task<HttpResponseMessage> PostActionAsync(string route, string token, string verificationId, params (string Name, string Value)[] fields)
    {
        // The browser sends the confirmation checkbox these forms require (ticked, as an agent must to submit).
        (string, string)[] confirmation = route is "revoke-sessions" or "reset-factors" && !fields.Any(f => f.Name == "confirmed") ? [("confirmed", "true")] : [];
        var posted = await PortalTestHost.PostFormAsync(browser, "/actions/" + route, token, [("verificationId", verificationId), .. confirmation, .. fields]);
        return await PortalTestHost.FollowSeeOtherAsync(browser, posted, "/actions/result/");
    }

    public static string FormFor(string page, string action)
    {
        var match = FormPattern().Matches(page).FirstOrDefault(m => m.Groups[1].Value == action);
        Assert.True(match is not null, $"The page has no form posting to {action}.");
        return match.Value;
    }

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\"[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("data-field=\"callback-code\">([0-9 ]+)<")]
    private static partial Regex CallBackCodePattern();
}
