using Microsoft.Extensions.Logging;

namespace Portal.Idp.Okta;

// Fixed templates: operation names, HTTP statuses and Okta's own error codes/ids only. Never URLs (they
// carry logins in searches), bodies, tokens, passcodes or one-time values.
internal static partial class OktaLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Okta {Operation} answered {StatusCode}")]
    public static partial void Answered(ILogger logger, string operation, int statusCode);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Okta {Operation} failed with {StatusCode} (error code {ErrorCode}, error id {ErrorId})")]
    public static partial void Failed(ILogger logger, string operation, int statusCode, string errorCode, string errorId);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Okta {Operation} got no answer ({Failure})")]
    public static partial void NoAnswer(ILogger logger, string operation, string failure);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Okta {Operation} was rate limited; retrying once in {DelayMilliseconds} ms")]
    public static partial void RateLimitedRetry(ILogger logger, string operation, long delayMilliseconds);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Okta {Operation} refused by the portal: {Reason}")]
    public static partial void Refused(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Okta {Operation} answered {StatusCode} with a body the portal could not read")]
    public static partial void Unreadable(ILogger logger, string operation, int statusCode);
}
