using Portal.Web.Platform;

namespace Portal.Web.Verification.StepUp;

/// <summary>Step-up log lines: tenant ids and reason codes only; never tokens, codes, links or who the caller is.</summary>
internal static partial class StepUpLog
{
    [LoggerMessage(EventId = PortalEvents.StepUpRefused, Level = LogLevel.Warning, Message = "Step-up refused for tenant {TenantId}: {Reason}")]
    public static partial void Refused(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = PortalEvents.StepUpTokenFailed, Level = LogLevel.Warning, Message = "Step-up token for tenant {TenantId} not accepted: {Reason}")]
    public static partial void TokenFailed(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = PortalEvents.StepUpCallbackUnknown, Level = LogLevel.Warning, Message = "Step-up callback with an unknown, spent or expired state")]
    public static partial void CallbackUnknown(ILogger logger);
}
