using System.Net;
using System.Text.Json.Nodes;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>Helpers for the tenancy, admin, policy and allow-list tests: forms posted the way a browser posts them.</summary>
internal static class TenancyTestKit
{
    public const string Admin = "admin@demo.example";
    public const string Tier2 = "tier2.agent@demo.example";
    public const string Tier3 = "tier3.agent@demo.example";
    public const string Auditor = "auditor@demo.example";
    public const string Alice = "alice.caller@demo.example";
    public const string Bob = "bob.caller@demo.example";
    public const string Erin = "erin.admin@demo.example";

    /// <summary>Posts a form with an antiforgery token taken from <paramref name="pagePath"/> as the browser does; a saved change's 303 back to that page is followed.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string pagePath, string path, params (string Name, string Value)[] fields)
    {
        var page = await browser.GetAsync(pagePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var posted = await PortalTestHost.PostFormAsync(browser, path, PortalTestHost.FormToken(await page.Content.ReadAsStringAsync()), fields);
        return await PortalTestHost.FollowSeeOtherAsync(browser, posted, pagePath);
    }

    public static async Task<List<JsonObject>> AuditAsync(PortalTestHost host, string tenantId = PortalTestHost.TenantId)
    {
        var list = new List<JsonObject>();
        await foreach (var doc in host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(tenantId, "audit"))))
        {
            list.Add(doc.Data);
        }

        return list;
    }

    public static HttpClient From(HttpClient browser, string forwardedFor)
    {
        browser.DefaultRequestHeaders.Remove("X-Forwarded-For");
        browser.DefaultRequestHeaders.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        return browser;
    }
}
