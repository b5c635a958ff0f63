namespace Portal.Web.Features.StepUp;

/// <summary>Step-up log lines: tenant ids and reason codes only; never tokens, codes, links or who the caller is.</summary>
internal static partial class StepUpLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Step-up refused for tenant {TenantId}: {Reason}")]
    public static partial void Refused(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Step-up token for tenant {TenantId} not accepted: {Reason}")]
    public static partial void TokenFailed(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Step-up callback with an unknown, spent or expired state")]
    public static partial void CallbackUnknown(ILogger logger);
}
