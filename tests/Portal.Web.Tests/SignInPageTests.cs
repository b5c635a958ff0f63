using System.Net;

namespace Portal.Web.Tests;

/// <summary>The sign-in page finds an agent's organisation without telling strangers who the customers are.</summary>
public sealed class SignInPageTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>
{
    // One portal serves the class: its tests share nothing a test changes.
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task SignInPage_OutsideTheDemo_ListsNoOrganisations()
    {
        var page = await _host.NewClient().GetStringAsync("/account/signin");

        Assert.DoesNotContain("Demo Org", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"/account/signin/{PortalTestHost.TenantId}", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("someone@demo.example")]
    [InlineData("SOMEONE@Demo.Example")]
    [InlineData("Demo Org (Okta)")]
    [InlineData("demo org (okta)")]
    public async Task Find_ByEmailDomainOrName_OffersThatOrganisationsSignIn(string typed)
    {
        var browser = _host.NewClient();
        var token = PortalTestHost.FormToken(await browser.GetStringAsync("/account/signin"));

        var response = await PortalTestHost.PostFormAsync(browser, "/account/find", token, ("organisation", typed));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"href=\"/account/signin/{PortalTestHost.TenantId}\"", page, StringComparison.Ordinal);
        if (typed.Contains('@', StringComparison.Ordinal))
        {
            Assert.DoesNotContain(typed, page, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("someone@other.example")]
    [InlineData("Demo")]
    [InlineData("")]
    public async Task Find_NoMatch_SaysSoAndOffersNothing(string typed)
    {
        var browser = _host.NewClient();
        var token = PortalTestHost.FormToken(await browser.GetStringAsync("/account/signin"));

        var response = await PortalTestHost.PostFormAsync(browser, "/account/find", token, ("organisation", typed));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Contains("No organisation matches", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"/account/signin/{PortalTestHost.TenantId}", page, StringComparison.Ordinal);
    }
}
