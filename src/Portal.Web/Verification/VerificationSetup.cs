using Portal.Web.Verification.Actions;
using Portal.Web.Verification.Methods;
using Portal.Web.Verification.Recovery;
using Portal.Web.Verification.StepUp;

namespace Portal.Web.Verification;

/// <summary>Registers the verification core: the look-up and start pipeline, its methods, their verdicts, and the actions.</summary>
public static class VerificationSetup
{
    public static IServiceCollection AddPortalVerification(this IServiceCollection services)
    {
        services.AddSingleton<VerificationStore>();
        services.AddSingleton<CallerReferences>();
        services.AddScoped<VerificationVerdicts>();
        services.AddScoped<OktaPushMethod>();
        services.AddScoped<IVerificationMethod>(sp => sp.GetRequiredService<OktaPushMethod>());
        services.AddScoped<IVerificationMethod, TotpMethod>();
        services.AddScoped<IVerificationMethod, EntraPushMethod>();
        services.AddScoped<IVerificationMethod, StepUpMethod>();
        services.AddScoped<ManagerApprovalMethod>();
        services.AddScoped<IVerificationMethod>(sp => sp.GetRequiredService<ManagerApprovalMethod>());
        services.AddScoped<CallBackMethod>();
        services.AddScoped<IVerificationMethod>(sp => sp.GetRequiredService<CallBackMethod>());
        services.AddSingleton<CallBackHandover>();
        services.AddScoped<IVerificationMethod, IdVerificationMethod>();
        services.AddScoped<VerificationService>();
        services.AddSingleton<ApprovalStore>();
        services.AddScoped<ActionService>();
        services.AddScoped<ApprovalsBeforeVerifying>();
        services.AddSingleton<RecoveryNoticeStore>();
        services.AddSingleton<INoticeRelay, SmtpNoticeRelay>();
        services.AddScoped<IRecoveryNotices, RecoveryNotices>();
        services.AddScoped<RecoveryDisputes>();
        return services.AddPortalStepUp();
    }
}
