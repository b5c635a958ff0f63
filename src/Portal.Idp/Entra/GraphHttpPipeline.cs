using System.Net;
using Microsoft.Graph;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace Portal.Idp.Entra;

/// <summary>Graph's own middleware for the portal's named HttpClient, with a retry policy safe for writes.</summary>
internal static class GraphHttpPipeline
{
    /// <summary>A read is retried only when the server asks for a wait no longer than this; an agent is on the phone.</summary>
    internal static readonly TimeSpan MaxReadRetryWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Graph's default handlers (<see cref="GraphClientFactory.CreateDefaultHandlers"/>: telemetry, URI replacement,
    /// retry, redirect, parameter-name decoding, user agent, header inspection), with its <see cref="RetryHandler"/>
    /// replaced. The stock one resends any request whose body is buffered, POST and PATCH included, on 429, 503 and
    /// 504; a resent password reset or TAP issue may act twice, so only GET is retried here.
    /// </summary>
    public static IList<DelegatingHandler> CreateHandlers()
    {
        var handlers = GraphClientFactory.CreateDefaultHandlers();
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is RetryHandler stock)
            {
                stock.Dispose();
                handlers[i] = new RetryHandler(ReadOnlyRetry());
            }
        }

        return handlers;
    }

    internal static RetryHandlerOption ReadOnlyRetry() => new()
    {
        MaxRetry = 2,
        Delay = 1,
        RetriesTimeLimit = MaxReadRetryWait,
        ShouldRetry = static (_, _, response) => ShouldRetry(response),
    };

    internal static bool ShouldRetry(HttpResponseMessage response) =>
        response.RequestMessage?.Method == HttpMethod.Get
        && response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
}
