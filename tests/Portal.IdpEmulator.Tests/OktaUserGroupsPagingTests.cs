using System.Net;
using System.Text.Json.Nodes;
using Portal.Idp.Tests.Spec;

namespace Portal.IdpEmulator.Tests;

/// <summary>
/// A user's groups (listUserGroups, <c>GET /api/v1/users/{id}/groups</c>) paged as Okta pages them: <c>limit</c> at
/// most 200 and the default, a <c>Link</c> header whose <c>rel="next"</c> carries an <c>after</c> cursor, no next
/// link on the last page. Every answer is checked against Okta's spec.
/// </summary>
public sealed class OktaUserGroupsPagingTests : IAsyncLifetime
{
    private static readonly OpenApiSubsetValidator Spec = OpenApiSubsetValidator.Load(Path.Combine(AppContext.BaseDirectory, "specs", "okta-management-subset.json"));

    private EmulatorHost _host = null!;

    public async Task InitializeAsync() => _host = await TestEmulator.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task MoreGroupsThanAPage_DefaultPagesOf200_NextLinksFollowedToTheEnd_EveryPageAsTheSpecSays()
    {
        var caller = CallerInGroups(450);
        using var okta = TestEmulator.Okta(_host);

        var pages = await ReadAllAsync(okta, $"users/{caller.Id}/groups");

        Assert.Equal([200, 200, 50], pages.Select(p => p.Groups.Count));
        Assert.Equal(caller.Groups, pages.SelectMany(p => p.Groups).Select(g => g["profile"]!["name"]!.GetValue<string>()));
        Assert.All(pages[..^1], p =>
        {
            Assert.NotNull(p.Next);
            Assert.Equal(_host.BaseUrl.GetLeftPart(UriPartial.Authority), p.Next.GetLeftPart(UriPartial.Authority));
            Assert.Equal($"/api/v1/users/{caller.Id}/groups", p.Next.AbsolutePath);
            Assert.Contains("after=", p.Next.Query, StringComparison.Ordinal);
        });
        Assert.Null(pages[^1].Next);
    }

    [Theory]
    [InlineData("50", new[] { 50, 50, 50, 50, 50, 50, 50, 50, 50 })]
    [InlineData("1000", new[] { 200, 200, 50 })]
    [InlineData("0", new[] { 200, 200, 50 })]
    public async Task Limit_PagesOfThatSize_AtMost200(string limit, int[] sizes)
    {
        var caller = CallerInGroups(450);
        using var okta = TestEmulator.Okta(_host);

        var pages = await ReadAllAsync(okta, $"users/{caller.Id}/groups?limit={limit}");

        Assert.Equal(sizes, pages.Select(p => p.Groups.Count));
        Assert.Equal(450, pages.SelectMany(p => p.Groups).Select(g => g["id"]!.GetValue<string>()).Distinct(StringComparer.Ordinal).Count());
        Assert.All(pages[..^1], p => Assert.Contains("limit=" + limit, p.Next!.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OnePageOfGroups_NoNextLink_UnknownUser404_AsTheSpecSays()
    {
        using var okta = TestEmulator.Okta(_host);

        var pages = await ReadAllAsync(okta, $"users/{TestEmulator.IdOf(_host, "alice.caller@demo.example")}/groups");
        using var missing = await okta.GetAsync("users/00uNOSUCHUSER0000000/groups?limit=200");

        var page = Assert.Single(pages);
        Assert.Null(page.Next);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(Spec.Validate("GET", "/api/v1/users/00uNOSUCHUSER0000000/groups", 404, missing.Content.Headers.ContentType?.ToString(), await missing.Content.ReadAsStringAsync()));
    }

    private DemoCaller CallerInGroups(int count)
    {
        var login = $"g{Guid.NewGuid():N}@demo.example";
        var caller = _host.State.AddCaller(login, login, "Many", "Groups");
        _host.State.AddToManyGroups(login, "Project", count - 1);
        return caller;
    }

    /// <summary>Reads a listing from its first page to the last by its next links, each answer checked against the spec.</summary>
    private async Task<List<(List<JsonNode> Groups, Uri? Next)>> ReadAllAsync(HttpClient okta, string first)
    {
        var pages = new List<(List<JsonNode>, Uri?)>();
        Uri? uri = new(okta.BaseAddress!, first);
        while (uri is not null && pages.Count < 20)
        {
            using var response = await okta.GetAsync(uri);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(Spec.Validate("GET", uri.AbsolutePath, 200, response.Content.Headers.ContentType?.ToString(), body));
            var links = response.Headers.GetValues("Link").SelectMany(v => v.Split(',')).Select(l => l.Trim()).ToList();
            Assert.Contains(links, l => l.EndsWith("; rel=\"self\"", StringComparison.Ordinal));
            var next = links.SingleOrDefault(l => l.EndsWith("; rel=\"next\"", StringComparison.Ordinal));
            uri = next is null ? null : new Uri(next[1..next.IndexOf('>', StringComparison.Ordinal)]);
            pages.Add(([.. JsonNode.Parse(body)!.AsArray().Select(g => g!)], uri));
        }

        return pages;
    }
}
