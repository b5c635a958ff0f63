using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Portal.Storage;

/// <summary>
/// Deletes expired documents on a timer. Reads already ignore them, so retention holds without it; the
/// purge is what makes expired audit records and sessions actually leave the disk.
/// </summary>
internal sealed partial class ExpiredDocumentPurger(
    IEnumerable<IExpiredDocumentPurge> purges,
    IOptions<StorageOptions> options,
    TimeProvider clock,
    ILogger<ExpiredDocumentPurger> logger) : BackgroundService
{
    // Created with the service, so the first interval counts from start-up whenever ExecuteAsync gets to run.
    private readonly PeriodicTimer _timer = new(options.Value.PurgeInterval, clock);

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            do
            {
                await PurgeOnceAsync(stoppingToken);
            }
            while (await _timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    internal async Task<int> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var purge in purges)
        {
            try
            {
                deleted += await purge.PurgeAllExpiredAsync(clock.GetUtcNow(), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed purge must not stop the next one; expired documents stay invisible meanwhile.
                PurgeFailed(logger, ex.GetType().Name);
            }
        }

        if (deleted > 0)
        {
            Purged(logger, deleted);
        }

        return deleted;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Deleted {Count} expired documents")]
    private static partial void Purged(ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "The purge of expired documents failed ({ErrorType}); it is retried at the next interval")]
    private static partial void PurgeFailed(ILogger logger, string errorType);
}
