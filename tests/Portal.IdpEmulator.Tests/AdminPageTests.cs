using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Portal.IdpEmulator.Tests;

public sealed class AdminPageTests
{
    private const string Alice = "alice.caller@demo.example";

    [Fact]
    public async Task AdminPage_ListsEveryUserWithAnActionForm_NoScript()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.GetAsync("admin");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\" action=\"/admin/act\">", page, StringComparison.Ordinal);
        Assert.Contains("Do it as an IdP administrator", page, StringComparison.Ordinal);
        Assert.Contains(Alice, page, StringComparison.Ordinal);
        Assert.Contains("grace.caller@entra.example", page, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/emulator.css\">", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<style", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Act_ResetsThePasswordAsTheOktaAdmin_RedirectsToAConfirmationWithAMaskedLogin()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 14, 5, 9, TimeSpan.Zero));
        await using var host = await TestEmulator.StartAsync(time);
        using var browser = TestEmulator.Browser(host);

        using var posted = await browser.PostAsync("admin/act", Form("okta", Alice, "ResetPassword"));
        var confirmation = await browser.GetStringAsync(posted.Headers.Location!.OriginalString.TrimStart('/'));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var activity = Assert.Single(host.State.AdminActivities);
        Assert.Equal("/admin?done=" + activity.Id, posted.Headers.Location!.OriginalString);
        Assert.Equal(AdminActivityKind.PasswordReset, activity.Kind);
        Assert.Equal(EmulatorAdmins.OktaAdminId, activity.Actor.Id);
        Assert.Equal("RECOVERY", host.State.FindCaller(Alice)!.Status);
        Assert.Contains(
            "Done: Reset password for a***@demo.example as Okta Administrator at 14:05:09 UTC (this is what an attacker who talked an admin into it would do).",
            confirmation,
            StringComparison.Ordinal);
        Assert.DoesNotContain(Alice + " as", confirmation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Act_EntraTap_RecordedAsTheEntraAdmin()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var posted = await browser.PostAsync("admin/act", Form("entra", "heidi.caller@entra.example", "IssueTemporaryAccess"));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var activity = Assert.Single(host.State.AdminActivities);
        Assert.Equal(IdpSide.Entra, activity.Side);
        Assert.Equal(EmulatorAdmins.EntraAdminUpn, activity.Actor.AlternateId);
        Assert.Equal(1, host.State.FindEntraUser("heidi.caller@entra.example")!.TemporaryAccessPassesIssued);
    }

    [Theory]
    [InlineData("entra", "grace.caller@entra.example", "Unlock", HttpStatusCode.Conflict)]
    [InlineData("okta", "nobody@demo.example", "Unlock", HttpStatusCode.NotFound)]
    [InlineData("okta", Alice, "DeleteEverything", HttpStatusCode.BadRequest)]
    [InlineData("ldap", Alice, "Unlock", HttpStatusCode.BadRequest)]
    public async Task Act_Refused_ShowsWhyAndRecordsNothing(string side, string user, string action, HttpStatusCode expected)
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var posted = await browser.PostAsync("admin/act", Form(side, user, action));

        Assert.Equal(expected, posted.StatusCode);
        Assert.Contains("role=\"alert\"", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(host.State.AdminActivities);
    }

    [Fact]
    public async Task PhoneList_LinksToTheAdminConsole()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        Assert.Contains("<a href=\"/admin\">", await browser.GetStringAsync("phone"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminPage_HostileLogin_IsEncoded()
    {
        await using var host = await TestEmulator.StartAsync();
        host.State.AddCaller("<img src=x onerror=alert(1)>@demo.example", "x@demo.example", "<b>Evil</b>", "Name");
        using var browser = TestEmulator.Browser(host);

        var page = await browser.GetStringAsync("admin");

        Assert.DoesNotContain("<img", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Evil", page, StringComparison.Ordinal);
    }

    private static FormUrlEncodedContent Form(string side, string user, string action) =>
        new(new Dictionary<string, string> { ["side"] = side, ["user"] = user, ["action"] = action });
}
