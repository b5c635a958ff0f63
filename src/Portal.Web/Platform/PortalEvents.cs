namespace Portal.Web.Platform;

/// <summary>
/// The one registry of the portal's log event ids (docs/architecture.md, "Log event ids"): every <c>[LoggerMessage]</c>
/// in Portal.Web takes its id from here, so two log lines never share one. The libraries keep their own ranges:
/// Portal.Storage 2000–2099, Portal.Idp 3100–3199 (Okta) and 4100–4199 (Entra), Portal.Audit 6000–6099;
/// <c>EventIdTests</c> checks every id in <c>src/</c> is used once.
/// </summary>
internal static class PortalEvents
{
    public const int StartupFailed = 1000;
    public const int AuditWriteFailed = 1001;
    public const int AgentSignInRefused = 1002;
    public const int AgentSignedIn = 1003;
    public const int IdpCallFailed = 1004;
    public const int SecurityAlarm = 1005;
    public const int ActionAuditCompletionFailed = 1006;
    public const int CallSummaryNotUpdated = 1008;
    public const int ConnectionCheckSettingsRefused = 1020;
    public const int ConnectionChecked = 1021;
    public const int ConnectionCredentialsRefused = 1022;
    public const int TenantRefreshFailed = 1101;
    public const int TenantStoreUnreachable = 1103;
    public const int TenantSettingApplied = 1104;
    public const int TenantSettingKept = 1105;
    public const int IpAllowListDenied = 1111;
    public const int IpAllowListAuditFailed = 1112;
    public const int ForeignHostRefused = 1120;
    public const int AlertDeliveryFailed = 1121;
    public const int AlertQueueFull = 1122;
    public const int AlertAuditFailed = 1123;
    public const int CrossSiteRefused = 1131;
    public const int CrossSiteAuditFailed = 1132;
    public const int StepUpRefused = 1141;
    public const int StepUpTokenFailed = 1142;
    public const int StepUpCallbackUnknown = 1143;
    public const int RecoveryNoticeFailed = 1151;
    public const int RecoveryNoticeLinkNotRemoved = 1152;
    public const int RecoveryDisputed = 1153;
    public const int RecoveryNoticeCrashed = 1154;
    public const int ReconciliationRecorded = 5200;
    public const int ReconciliationReadFailed = 5201;
    public const int ReconciliationLeaseLost = 5202;
    public const int ReconciliationRunFailed = 5203;
}
