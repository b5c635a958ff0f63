namespace Portal.Web.Verification.StepUp;

/// <summary>Registers the step-up sign-in (<c>oidc.stepup</c>).</summary>
public static class StepUpSetup
{
    public static IServiceCollection AddPortalStepUp(this IServiceCollection services)
    {
        services.AddHttpClient(StepUpOidc.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddSingleton<StepUpStore>();
        services.AddSingleton<StepUpOidc>();
        services.AddSingleton<StepUpHandover>();
        services.AddScoped<StepUpService>();
        services.AddScoped<ManagerSignIn>();
        return services;
    }
}
