using System.Globalization;
using System.Net;

namespace Portal.IdpEmulator.Tests;

public sealed class PhonePageTests
{
    private const string Alice = "alice.caller@demo.example";

    [Fact]
    public async Task PhonePage_PendingPush_ShowsThreeNumbersNotMeTotpAndRefresh()
    {
        await using var host = await TestEmulator.StartAsync();
        var pending = await StartPush(host);
        using var browser = TestEmulator.Browser(host);

        var page = await browser.GetStringAsync("phone/" + Uri.EscapeDataString(Alice));

        foreach (var number in pending.Choices)
        {
            Assert.Contains($"name=\"number\" value=\"{number.ToString(CultureInfo.InvariantCulture)}\"", page, StringComparison.Ordinal);
        }

        Assert.Contains("Not me", page, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"3\">", page, StringComparison.Ordinal);
        Assert.Contains(host.State.CurrentTotp(Alice), page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AnswerForm_RightNumber_ApprovesAndRedirectsBack()
    {
        await using var host = await TestEmulator.StartAsync();
        var pending = await StartPush(host);
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.PostAsync(
            $"phone/push/{Uri.EscapeDataString(pending.TransactionId)}/answer",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["number"] = pending.CorrectAnswer.ToString(CultureInfo.InvariantCulture) }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/phone/" + Uri.EscapeDataString(Alice), response.Headers.Location!.OriginalString);
        Assert.Empty(host.State.PendingPushes(Alice));
        Assert.Equal("SUCCESS", await PollResult(host, pending));
    }

    [Fact]
    public async Task DenyForm_Rejects()
    {
        await using var host = await TestEmulator.StartAsync();
        var pending = await StartPush(host);
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.PostAsync($"phone/push/{Uri.EscapeDataString(pending.TransactionId)}/deny", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("REJECTED", await PollResult(host, pending));
    }

    [Fact]
    public async Task PhoneList_HostileLogin_IsEncoded()
    {
        await using var host = await TestEmulator.StartAsync();
        host.State.AddCaller("<img src=x onerror=alert(1)>@demo.example", "x@demo.example", "<b>Evil</b>", "Name");
        using var browser = TestEmulator.Browser(host);

        var page = await browser.GetStringAsync("phone");

        Assert.DoesNotContain("<img", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Evil", page, StringComparison.Ordinal);
        Assert.Contains("alice.caller@demo.example", page, StringComparison.Ordinal);
    }

    private static async Task<PendingPush> StartPush(EmulatorHost host)
    {
        using var client = TestEmulator.Okta(host);
        using var verify = await client.PostAsync(
            $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "push")}/verify",
            TestEmulator.JsonBody("{\"useNumberMatchingChallenge\":true}"));
        Assert.Equal(HttpStatusCode.Created, verify.StatusCode);
        return Assert.Single(host.State.PendingPushes(Alice));
    }

    private static async Task<string> PollResult(EmulatorHost host, PendingPush push)
    {
        using var client = TestEmulator.Okta(host);
        var fid = TestEmulator.FactorOf(host, Alice, "push");
        using var response = await client.GetAsync($"users/{TestEmulator.IdOf(host, Alice)}/factors/{fid}/transactions/{push.TransactionId}");
        return (await TestEmulator.ReadJson(response))["factorResult"]!.GetValue<string>();
    }
}
