using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Core;

/// <summary>The one client-address resolver and the allow-list's network rules at their edges (A4).</summary>
public sealed class ClientAddressTests
{
    private static ClientAddressResolver Resolver(int hops) => new(Options.Create(new WebOptions { TrustedProxyHops = hops }));

    private static DefaultHttpContext Request(string socket, string? forwardedFor = null, string? forwardedProto = null)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(socket);
        http.Request.Scheme = "http";
        if (forwardedFor is not null)
        {
            http.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        if (forwardedProto is not null)
        {
            http.Request.Headers["X-Forwarded-Proto"] = forwardedProto;
        }

        return http;
    }

    [Fact]
    public void Origin_ResolvedOncePerRequest_FromTheTrustedProxysEntries()
    {
        var resolver = Resolver(1);
        var http = Request("10.0.0.1", "198.51.100.1, 203.0.113.7", "https");

        var origin = resolver.Origin(http);
        Assert.Equal(new ClientOrigin(IPAddress.Parse("203.0.113.7"), "https"), origin);
        Assert.Equal(1, resolver.TrustedProxyHops);

        http.Request.Headers["X-Forwarded-For"] = "192.0.2.1";
        Assert.Same(origin, resolver.Origin(http));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), resolver.Resolve(http));
    }

    [Fact]
    public async Task Middleware_BehindProxies_MakesTheResolvedOriginTheRequests()
    {
        var http = Request("10.0.0.1", "203.0.113.7, 35.191.0.1", "https");
        HttpContext? seen = null;
        var middleware = new ForwardedRequestMiddleware(c => { seen = c; return Task.CompletedTask; }, Resolver(2));

        await middleware.InvokeAsync(http);

        Assert.Same(http, seen);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), http.Connection.RemoteIpAddress);
        Assert.Equal("https", http.Request.Scheme);
    }

    [Fact]
    public async Task Middleware_BehindProxies_AnUnknownClientStaysUnknown()
    {
        var http = Request("10.0.0.1", "203.0.113.7", "https");
        await new ForwardedRequestMiddleware(_ => Task.CompletedTask, Resolver(2)).InvokeAsync(http);
        Assert.Null(http.Connection.RemoteIpAddress);
    }

    [Fact]
    public async Task Middleware_WithoutProxies_LeavesTheConnectionAlone()
    {
        var mapped = Request("::ffff:10.0.0.1");
        await new ForwardedRequestMiddleware(_ => Task.CompletedTask, Resolver(0)).InvokeAsync(mapped);
        Assert.Equal(IPAddress.Parse("::ffff:10.0.0.1"), mapped.Connection.RemoteIpAddress);

        var http = Request("10.0.0.1", "203.0.113.7", "https");
        var called = false;
        await new ForwardedRequestMiddleware(_ => { called = true; return Task.CompletedTask; }, Resolver(0)).InvokeAsync(http);

        Assert.True(called);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), http.Connection.RemoteIpAddress);
        Assert.Equal("http", http.Request.Scheme);
        Assert.Equal(new ClientOrigin(IPAddress.Parse("10.0.0.1"), "http"), http.Features.Get<ClientOrigin>());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public void Resolve_NoTrustedProxy_TheSocketNormalised(int hops)
    {
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ClientAddressResolver.Resolve(IPAddress.Parse("::ffff:192.0.2.9"), ["203.0.113.7"], hops));
        Assert.Null(ClientAddressResolver.Resolve(null, ["203.0.113.7"], hops));
    }

    [Fact]
    public void Resolve_EntriesAcrossSeveralHeaders_CountAsOneList()
    {
        Assert.Equal(IPAddress.Parse("203.0.113.7"), ClientAddressResolver.Resolve(IPAddress.Loopback, ["198.51.100.1, 203.0.113.7", "35.191.0.1"], 2));

        // A header without a value is an empty entry, which no address can be read from.
        Assert.Null(ClientAddressResolver.Resolve(IPAddress.Loopback, ["203.0.113.7", null, "35.191.0.1"], 2));
    }

    [Fact]
    public void Resolve_SixtyFourEntriesRead_SixtyFiveRefused()
    {
        var sixtyFour = string.Join(", ", Enumerable.Range(1, 64).Select(i => $"198.51.100.{i}"));
        Assert.Equal(IPAddress.Parse("198.51.100.64"), ClientAddressResolver.Resolve(IPAddress.Loopback, [sixtyFour], 1));
        Assert.Null(ClientAddressResolver.Resolve(IPAddress.Loopback, [sixtyFour + ", 198.51.100.65"], 1));
        Assert.Null(ClientAddressResolver.Resolve(IPAddress.Loopback, [sixtyFour, "198.51.100.65"], 1));
    }

    [Theory]
    [InlineData("203.0.113.7, ")]
    [InlineData("203.0.113.7, [::1")]
    [InlineData("203.0.113.7, 203.0.113.8 ")]
    public void Resolve_AnEmptyOrBrokenEntryAtTheTrustedPlace_IsUnknown(string header)
    {
        var expected = header.EndsWith("8 ", StringComparison.Ordinal) ? IPAddress.Parse("203.0.113.8") : null;
        Assert.Equal(expected, ClientAddressResolver.Resolve(IPAddress.Loopback, [header], 1));
    }

    [Fact]
    public void Resolve_SixtyFourCharactersAtMostPerEntry()
    {
        var sixtyFour = "[0000:0000:0000:0000:0000:0000:0000:0001]:" + "443".PadLeft(22, '0');
        Assert.Equal(64, sixtyFour.Length);
        Assert.Equal(IPAddress.IPv6Loopback, ClientAddressResolver.Resolve(IPAddress.Loopback, [sixtyFour], 1));
        Assert.Null(ClientAddressResolver.Resolve(IPAddress.Loopback, ["[0000:0000:0000:0000:0000:0000:0000:0001]:" + "443".PadLeft(23, '0')], 1));
    }

    [Fact]
    public void Resolve_Ipv4MappedEntry_ReadAsIpv4()
    {
        Assert.Equal(IPAddress.Parse("203.0.113.7"), ClientAddressResolver.Resolve(IPAddress.Loopback, ["::ffff:203.0.113.7"], 1));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), ClientAddressResolver.Resolve(IPAddress.Loopback, ["[::ffff:203.0.113.7]:443"], 1));
    }

    [Fact]
    public void Resolve_BareIpv6_NotMistakenForAnAddressAndPort()
    {
        // "2001:db8::5:443" is an IPv6 address; a port on IPv6 needs brackets.
        Assert.Equal(IPAddress.Parse("2001:db8::5:443"), ClientAddressResolver.Resolve(IPAddress.Loopback, ["2001:db8::5:443"], 1));
        Assert.Equal(IPAddress.Parse("2001:db8::5"), ClientAddressResolver.Resolve(IPAddress.Loopback, ["[2001:db8::5]"], 1));
    }

    [Theory]
    [InlineData(3, "https, http", "https")]
    [InlineData(1, "HTTPS", "https")]
    [InlineData(1, "HTTP", "http")]
    [InlineData(-1, "https", "http")]
    public void ResolveScheme_MoreHopsThanValues_TheLeftMost_CaseIgnored(int hops, string header, string expected)
    {
        Assert.Equal(expected, ClientAddressResolver.ResolveScheme("http", [header], hops));
    }

    [Fact]
    public void ResolveScheme_NoHeaderOrTooManyValues_TheConnectionsOwn()
    {
        Assert.Equal("https", ClientAddressResolver.ResolveScheme("https", [], 1));
        Assert.Equal("https", ClientAddressResolver.ResolveScheme("https", [string.Join(",", Enumerable.Repeat("http", 65))], 1));
        Assert.Equal("http", ClientAddressResolver.ResolveScheme("https", [string.Join(",", Enumerable.Repeat("http", 64))], 1));
        Assert.Equal("https", ClientAddressResolver.ResolveScheme("https", ["gopher"], 1));
    }

    [Theory]
    [InlineData(" 203.0.113.0/24 ", true)]
    [InlineData("/24", false)]
    [InlineData("203.0.113.0/", false)]
    [InlineData("203.0.113.0/33", false)]
    [InlineData("2001:db8::/48/1", false)]
    [InlineData(null, false)]
    [InlineData("", false)]
    public void TryParseNetwork_EdgeCases(string? text, bool expected)
    {
        Assert.Equal(expected, IpAllowListRules.TryParseNetwork(text, out var network));
        if (expected)
        {
            Assert.Equal(IPNetwork.Parse("203.0.113.0/24"), network);
        }
    }

    [Fact]
    public void TryParseNetwork_SixtyFourCharactersAtMost()
    {
        // A valid network padded with spaces: the trimmed text counts.
        Assert.True(IpAllowListRules.TryParseNetwork(new string(' ', 40) + "203.0.113.0/24" + new string(' ', 40), out _));
        var sixtyFour = "0000:0000:0000:0000:0000:0000:0000:0000/" + "0".PadLeft(24, '0');
        Assert.Equal(64, sixtyFour.Length);
        Assert.True(IpAllowListRules.TryParseNetwork(sixtyFour, out _));
        Assert.False(IpAllowListRules.TryParseNetwork(sixtyFour + "0", out _));
    }

    [Fact]
    public void Allows_SkipsEntriesThatAreNotNetworks_MatchesALaterOne()
    {
        Assert.True(IpAllowListRules.Allows(["garbage", "203.0.113.5/24", "203.0.113.0/24"], IPAddress.Parse("203.0.113.9")));
        Assert.False(IpAllowListRules.Allows(["garbage", "203.0.113.5/24"], IPAddress.Parse("203.0.113.5")));
        Assert.True(IpAllowListRules.Allows(["198.51.100.0/24", "203.0.113.0/24"], IPAddress.Parse("::ffff:203.0.113.9")));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), IpAllowListRules.Normalise(IPAddress.Parse("2001:db8::1")));
    }
}
