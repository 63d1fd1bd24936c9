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

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

function ConvertTo-EnumName([hashtable]$Names, $Value) {
    # a COM enum reaches PowerShell as its number on every shell: write its name, or the number if unknown
    $number = [int]$Value
    if ($Names.ContainsKey($number)) { return $Names[$number] }
    return [string]$number
}

# WUApiLib UpdateOperation and OperationResultCode, named as runner/evaluators/windows_patching.py names them
$operationNames = @{ 1 = 'Installation'; 2 = 'Uninstallation' }
$resultNames = @{ 0 = 'NotStarted'; 1 = 'InProgress'; 2 = 'Succeeded'; 3 = 'SucceededWithErrors'; 4 = 'Failed'; 5 = 'Aborted' }

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_patching'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

try {
    $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $total = $searcher.GetTotalHistoryCount()
    $entries = @()
    if ($total -gt 0) {
        # IUpdateHistoryEntry: Date is UTC; Operation 1 install / 2 uninstall; ResultCode 2 succeeded, 4 failed
        $entries = @($searcher.QueryHistory(0, [Math]::Min($total, $HistoryMax)) | ForEach-Object {
                [pscustomobject]@{
                    Date       = ConvertTo-IsoUtc ([DateTime]::SpecifyKind($_.Date, [DateTimeKind]::Utc))
                    Title      = $_.Title
                    Operation  = ConvertTo-EnumName $operationNames $_.Operation
                    ResultCode = ConvertTo-EnumName $resultNames $_.ResultCode
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
                    InstalledOn = ConvertTo-IsoUtc $_.InstalledOn
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
