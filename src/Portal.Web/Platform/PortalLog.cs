namespace Portal.Web.Platform;

/// <summary>Fixed log templates with event ids; values are ids, codes and type names only, never PII or secrets.</summary>
internal static partial class PortalLog
{
    [LoggerMessage(EventId = PortalEvents.AuditWriteFailed, Level = LogLevel.Error, Message = "The audit store could not be written ({ErrorType}); the step was refused or its record is incomplete")]
    public static partial void AuditWriteFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = PortalEvents.AgentSignInRefused, Level = LogLevel.Warning, Message = "Agent sign-in refused for tenant {TenantId}: {Reason}")]
    public static partial void SignInRefused(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = PortalEvents.AgentSignedIn, Level = LogLevel.Information, Message = "Agent signed in to tenant {TenantId}")]
    public static partial void SignedIn(ILogger logger, string tenantId);

    [LoggerMessage(EventId = PortalEvents.IdpCallFailed, Level = LogLevel.Warning, Message = "IdP call {Operation} for tenant {TenantId} failed: {Kind} {Code}")]
    public static partial void IdpFailed(ILogger logger, string operation, string tenantId, string kind, string code);

    [LoggerMessage(EventId = PortalEvents.SecurityAlarm, Level = LogLevel.Warning, Message = "Security alarm for tenant {TenantId}: {Reason}")]
    public static partial void Alarm(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = PortalEvents.ActionAuditCompletionFailed, Level = LogLevel.Error, Message = "An action's audit record could not be completed after the IdP call (tenant {TenantId}, record {RecordId}); it stays pending")]
    public static partial void AuditCompletionFailed(ILogger logger, string tenantId, string recordId);

    [LoggerMessage(EventId = PortalEvents.CallSummaryNotUpdated, Level = LogLevel.Warning, Message = "An action's outcome could not be added to its verification's call summary (tenant {TenantId}, {ErrorType}); the audit record holds it")]
    public static partial void CallSummaryNotUpdated(ILogger logger, string tenantId, string errorType);
}
