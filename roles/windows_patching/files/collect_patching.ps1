# windows_patching collector: update history, hotfixes and pending-reboot keys as one JSON object for
# runner/evaluators/windows_patching.py (schema 1); the role adds the win_updates results to it.
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
[CmdletBinding()]
param(
    [int]$HistoryMax = 50,
    [int]$HotFixMax = 10
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_patching'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = [DateTime]::UtcNow
}

try {
    $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $total = $searcher.GetTotalHistoryCount()
    $entries = @()
    if ($total -gt 0) {
        # IUpdateHistoryEntry: Date is UTC; Operation 1 install / 2 uninstall; ResultCode 2 succeeded, 4 failed
        $entries = @($searcher.QueryHistory(0, [Math]::Min($total, $HistoryMax)) | ForEach-Object {
                [pscustomobject]@{
                    Date       = [DateTime]::SpecifyKind($_.Date, [DateTimeKind]::Utc)
                    Title      = $_.Title
                    Operation  = [int]$_.Operation
                    ResultCode = [int]$_.ResultCode
                    HResult    = [int64]$_.HResult
                }
            })
    }
    $result.history = [ordered]@{ available = $true; total = $total; entries = $entries }
} catch {
    $result.history = [ordered]@{ available = $false; reason = "Windows Update history (Microsoft.Update.Session) failed: $($_.Exception.Message)" }
}

try {
    $fixes = @(Get-HotFix | Where-Object { $_.InstalledOn } | Sort-Object InstalledOn -Descending |
            Select-Object -First $HotFixMax | ForEach-Object {
                [pscustomobject]@{
                    HotFixID    = $_.HotFixID
                    Description = $_.Description
                    InstalledOn = $_.InstalledOn.ToUniversalTime()
                }
            })
    $result.hotfixes = [ordered]@{ available = $true; items = $fixes }
} catch {
    $result.hotfixes = [ordered]@{ available = $false; reason = "Get-HotFix failed: $($_.Exception.Message)" }
}

try {
    $rename = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' `
            -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations
    $renameCount = @($rename | Where-Object { $_ }).Count
    $result.reboot = [ordered]@{
        available                 = $true
        cbs_reboot_pending        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        wu_reboot_required        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        pending_file_rename       = $renameCount -gt 0
        pending_file_rename_count = $renameCount
    }
} catch {
    $result.reboot = [ordered]@{ available = $false; reason = "reading the pending-reboot registry keys failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 5 -Compress
