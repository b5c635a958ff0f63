using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.EndToEnd.Tests.Production;

/// <summary>
/// A TLS-terminating front that behaves as Cloud Run's does towards the container: https outside, plain http
/// to an instance, <c>X-Forwarded-Proto: https</c>, the client's address appended to whatever
/// <c>X-Forwarded-For</c> the client sent, a <c>traceparent</c> when the request has none, the <c>Host</c>
/// passed on as the client sent it. With <see cref="Hops"/> 2 it is an external HTTPS load balancer and Cloud
/// Run's front together: the load balancer's own address is appended after the client's. Requests go round
/// the live instances in turn; an instance that refuses the connection (killed) is skipped, as Cloud Run routes
/// around an instance that is gone.
/// </summary>
public sealed class FrontProxy : IAsyncDisposable
{
    /// <summary>The address the load balancer's hop appends (Google's front-end range).</summary>
    public const string LoadBalancerAddress = "35.191.0.1";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Authenticate", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private readonly List<Uri> _instances = [];
    private readonly ConcurrentDictionary<Uri, int> _served = new();
    private readonly ConcurrentBag<string> _traceIds = [];
    private int _next;

    private FrontProxy(WebApplication app, HttpClient upstream, int hops)
    {
        _app = app;
        _upstream = upstream;
        Hops = hops;
    }

    public int Hops { get; }

    /// <summary><c>https://localhost:{port}/</c>: the portal's public base URL behind this front.</summary>
    public Uri PublicUrl { get; private set; } = null!;

    /// <summary>The trace ids of the <c>traceparent</c> headers this front added.</summary>
    public IReadOnlyCollection<string> TraceIds => _traceIds;

    /// <summary>How many requests each instance answered.</summary>
    public int ServedBy(Uri instance) => _served.GetValueOrDefault(instance);

    public static async Task<FrontProxy> StartAsync(X509Certificate2 certificate, int hops)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        var proxy = new FrontProxy(app, upstream, hops);
        app.Run(proxy.ForwardAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        proxy.PublicUrl = new Uri($"https://localhost:{address.Port}/");
        return proxy;
    }

    public void Add(Uri instance)
    {
        lock (_instances)
        {
            _instances.Add(instance);
        }
    }

    public void Remove(Uri instance)
    {
        lock (_instances)
        {
            _instances.Remove(instance);
        }
    }

    private Uri[] Rotation()
    {
        lock (_instances)
        {
            var start = _next++;
            return Enumerable.Range(0, _instances.Count).Select(i => _instances[(start + i) % _instances.Count]).ToArray();
        }
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        foreach (var instance in Rotation())
        {
            using var request = BuildRequest(context, instance, body.ToArray());
            HttpResponseMessage response;
            try
            {
                response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                continue;
            }

            using (response)
            {
                _served.AddOrUpdate(instance, 1, (_, n) => n + 1);
                context.Response.StatusCode = (int)response.StatusCode;
                foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
                {
                    if (!HopByHop.Contains(name))
                    {
                        context.Response.Headers[name] = values.ToArray();
                    }
                }

                await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            }

            return;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
    }

    private HttpRequestMessage BuildRequest(HttpContext context, Uri instance, byte[] body)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(instance, incoming.Path.ToUriComponent() + incoming.QueryString.ToUriComponent()));
        if (body.Length > 0 || incoming.ContentLength is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name) || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        request.Headers.Host = incoming.Host.Value;
        var forwarded = incoming.Headers["X-Forwarded-For"].ToString();
        var client = context.Connection.RemoteIpAddress!.ToString();
        var chain = string.IsNullOrEmpty(forwarded) ? client : forwarded + ", " + client;
        if (Hops == 2)
        {
            chain += ", " + LoadBalancerAddress;
        }

        request.Headers.TryAddWithoutValidation("X-Forwarded-For", chain);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        if (!incoming.Headers.ContainsKey("traceparent"))
        {
            var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _traceIds.Add(traceId);
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
        }

        return request;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
