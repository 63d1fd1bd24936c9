# windows_assets collector: one JSON object for runner/assets/windows.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
# Probes, each on its own (one that fails is {available: false, reason} and the others still run):
# computer_system, bios, os (+ the CurrentVersion registry key), processors, disks, volumes, adapters (CIM);
# programs (the uninstall registry keys, 64-bit and WOW6432Node); antivirus (SecurityCenter2 + Defender);
# backup (services of known backup products, the Windows Server Backup feature); listening (TCP);
# hotfixes (Win32_QuickFixEngineering InstalledOn, the last Windows Update install).
[CmdletBinding()]
param(
    [string[]]$BackupServicePatterns = @(
        '*Veeam*', '*Acronis*', '*Backup Exec*', '*Commvault*', '*Datto*', '*ShadowProtect*', '*Macrium*',
        '*Arcserve*', '*Cohesity*', '*Rubrik*', '*NAKIVO*', '*Altaro*', '*Carbonite*', '*Iperius*', '*Cobian*',
        '*Active Backup*', '*Unitrends*'
    )
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

function Get-Prop($Object, [string]$Name) {
    # a property that may be absent (registry values, older platforms) without tripping StrictMode
    if ($null -eq $Object) { return $null }
    if ($Object.PSObject.Properties.Name -contains $Name) { return $Object.$Name }
    return $null
}

function Get-Text($Object, [string]$Name) {
    # trimmed text, or $null for absent/blank (CIM pads Win32_Processor.Name and some serials with spaces)
    $value = Get-Prop $Object $Name
    if ($null -eq $value) { return $null }
    $text = ([string]$value).Trim()
    if ($text -eq '') { return $null }
    return $text
}

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_assets'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

try {
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
    $result.computer_system = [ordered]@{
        available                 = $true
        reason                    = ''
        Name                      = Get-Text $cs 'Name'
        DNSHostName               = Get-Text $cs 'DNSHostName'
        Domain                    = Get-Text $cs 'Domain'
        Workgroup                 = Get-Text $cs 'Workgroup'
        PartOfDomain              = [bool](Get-Prop $cs 'PartOfDomain')
        Manufacturer              = Get-Text $cs 'Manufacturer'
        Model                     = Get-Text $cs 'Model'
        TotalPhysicalMemory       = Get-Prop $cs 'TotalPhysicalMemory'
        NumberOfLogicalProcessors = Get-Prop $cs 'NumberOfLogicalProcessors'
    }
} catch {
    $result.computer_system = [ordered]@{ available = $false; reason = "Win32_ComputerSystem query failed: $($_.Exception.Message)" }
}

try {
    $bios = Get-CimInstance -ClassName Win32_BIOS -ErrorAction Stop
    $result.bios = [ordered]@{
        available         = $true
        reason            = ''
        SerialNumber      = Get-Text $bios 'SerialNumber'
        SMBIOSBIOSVersion = Get-Text $bios 'SMBIOSBIOSVersion'
    }
} catch {
    $result.bios = [ordered]@{ available = $false; reason = "Win32_BIOS query failed: $($_.Exception.Message)" }
}

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
    # edition, feature update and patch level: not in Win32_OperatingSystem, in the CurrentVersion key
    $cv = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction SilentlyContinue
    $result.os = [ordered]@{
        available      = $true
        reason         = ''
        Caption        = Get-Text $os 'Caption'
        Version        = Get-Text $os 'Version'
        BuildNumber    = Get-Text $os 'BuildNumber'
        OSArchitecture = Get-Text $os 'OSArchitecture'
        ProductType    = Get-Prop $os 'ProductType'
        InstallDate    = ConvertTo-IsoUtc (Get-Prop $os 'InstallDate')
        LastBootUpTime = ConvertTo-IsoUtc (Get-Prop $os 'LastBootUpTime')
        EditionID      = Get-Text $cv 'EditionID'
        DisplayVersion = Get-Text $cv 'DisplayVersion'
        UBR            = Get-Prop $cv 'UBR'
    }
} catch {
    $result.os = [ordered]@{ available = $false; reason = "Win32_OperatingSystem query failed: $($_.Exception.Message)" }
}

try {
    $cpus = @(Get-CimInstance -ClassName Win32_Processor -ErrorAction Stop | ForEach-Object {
            [pscustomobject]@{
                DeviceID                  = Get-Text $_ 'DeviceID'
                Name                      = Get-Text $_ 'Name'
                NumberOfCores             = Get-Prop $_ 'NumberOfCores'
                NumberOfLogicalProcessors = Get-Prop $_ 'NumberOfLogicalProcessors'
            }
        })
    $result.processors = [ordered]@{ available = $true; reason = ''; items = $cpus }
} catch {
    $result.processors = [ordered]@{ available = $false; reason = "Win32_Processor query failed: $($_.Exception.Message)" }
}

try {
    $drives = @(Get-CimInstance -ClassName Win32_DiskDrive -ErrorAction Stop | ForEach-Object {
            [pscustomobject]@{
                DeviceID     = Get-Text $_ 'DeviceID'
                Index        = Get-Prop $_ 'Index'
                Model        = Get-Text $_ 'Model'
                SerialNumber = Get-Text $_ 'SerialNumber'
                Size         = Get-Prop $_ 'Size'
            }
        })
    $result.disks = [ordered]@{ available = $true; reason = ''; items = $drives }
} catch {
    $result.disks = [ordered]@{ available = $false; reason = "Win32_DiskDrive query failed: $($_.Exception.Message)" }
}

try {
    $volumes = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3' -ErrorAction Stop |
        Select-Object -Property 'DeviceID', 'VolumeName', 'FileSystem', 'Size')
    $result.volumes = [ordered]@{ available = $true; reason = ''; items = $volumes }
} catch {
    $result.volumes = [ordered]@{ available = $false; reason = "Win32_LogicalDisk query failed: $($_.Exception.Message)" }
}

try {
    $adapters = @(Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'IPEnabled=True' -ErrorAction Stop |
        ForEach-Object {
            [pscustomobject]@{
                Index       = Get-Prop $_ 'Index'
                Description = Get-Text $_ 'Description'
                MACAddress  = Get-Text $_ 'MACAddress'
                IPAddress   = @(Get-Prop $_ 'IPAddress' | Where-Object { $_ })
            }
        })
    $result.adapters = [ordered]@{ available = $true; reason = ''; items = $adapters }
} catch {
    $result.adapters = [ordered]@{ available = $false; reason = "Win32_NetworkAdapterConfiguration query failed: $($_.Exception.Message)" }
}

try {
    $uninstall = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
    )
    $entries = @()
    foreach ($key in $uninstall) {
        # WOW6432Node is absent on 32-bit Windows: nothing to read there is not a failure
        $entries += @(Get-ItemProperty -Path $key -ErrorAction SilentlyContinue)
    }
    # Programs and Features' own rule: no DisplayName or SystemComponent = 1 is not a listed program
    $programs = @($entries | Where-Object {
            (Get-Text $_ 'DisplayName') -and ([string](Get-Prop $_ 'SystemComponent') -ne '1')
        } | ForEach-Object {
            [pscustomobject]@{
                DisplayName    = Get-Text $_ 'DisplayName'
                DisplayVersion = Get-Text $_ 'DisplayVersion'
                Publisher      = Get-Text $_ 'Publisher'
            }
        })
    $result.programs = [ordered]@{ available = $true; reason = ''; items = $programs }
} catch {
    $result.programs = [ordered]@{ available = $false; reason = "reading the uninstall registry keys failed: $($_.Exception.Message)" }
}

try {
    $ns = Get-CimInstance -Namespace root -ClassName __NAMESPACE -Filter "Name='SecurityCenter2'" -ErrorAction SilentlyContinue
    if ($null -eq $ns) {
        $securityCenter = [ordered]@{ available = $false; reason = 'root/SecurityCenter2 is not present (Windows Server edition)' }
    } else {
        $products = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction Stop |
            Select-Object -Property 'displayName', 'productState')
        $securityCenter = [ordered]@{ available = $true; reason = ''; products = $products }
    }
} catch {
    $securityCenter = [ordered]@{ available = $false; reason = "SecurityCenter2 AntiVirusProduct query failed: $($_.Exception.Message)" }
}
if (-not (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
    $defender = [ordered]@{ available = $false; reason = 'Get-MpComputerStatus is not available (Windows-Defender feature not installed)' }
} else {
    try {
        $mp = Get-MpComputerStatus
        $defender = [ordered]@{
            available        = $true
            reason           = ''
            AMServiceEnabled = [bool](Get-Prop $mp 'AMServiceEnabled')
            AntivirusEnabled = [bool](Get-Prop $mp 'AntivirusEnabled')
            AMRunningMode    = Get-Text $mp 'AMRunningMode'
            AMProductVersion = Get-Text $mp 'AMProductVersion'
        }
    } catch {
        $defender = [ordered]@{ available = $false; reason = "Get-MpComputerStatus failed: $($_.Exception.Message)" }
    }
}
$result.antivirus = [ordered]@{ security_center = $securityCenter; defender = $defender }

try {
    $services = @(Get-Service -ErrorAction SilentlyContinue | Where-Object {
            $svc = $_
            @($BackupServicePatterns | Where-Object { $svc.Name -like $_ -or $svc.DisplayName -like $_ }).Count -gt 0
        } | ForEach-Object {
            # enum names ('Running', 'Stopped'), as PowerShell 7 with -EnumsAsStrings would write them
            [pscustomobject]@{
                Name        = $_.Name
                DisplayName = $_.DisplayName
                Status      = [string]$_.Status
            }
        })
    # Windows Server Backup is a feature, not a program: Get-WindowsFeature exists on Server editions only
    $wsb = $null
    if (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue) {
        $feature = Get-WindowsFeature -Name 'Windows-Server-Backup' -ErrorAction SilentlyContinue
        $wsb = ($null -ne $feature) -and [bool]$feature.Installed
    }
    $result.backup = [ordered]@{ available = $true; reason = ''; services = $services; wsb_feature = $wsb }
} catch {
    $result.backup = [ordered]@{ available = $false; reason = "looking for backup products failed: $($_.Exception.Message)" }
}

if (-not (Get-Command -Name Get-NetTCPConnection -ErrorAction SilentlyContinue)) {
    $result.listening = [ordered]@{ available = $false; reason = 'Get-NetTCPConnection is not available (NetTCPIP module missing)' }
} else {
    try {
        $names = @{}
        foreach ($process in @(Get-Process -ErrorAction SilentlyContinue)) { $names[[int]$process.Id] = $process.ProcessName }
        $listeners = @(Get-NetTCPConnection -State Listen -ErrorAction Stop | ForEach-Object {
                [pscustomobject]@{
                    LocalAddress  = [string]$_.LocalAddress
                    LocalPort     = [int]$_.LocalPort
                    OwningProcess = [int]$_.OwningProcess
                    ProcessName   = $names[[int]$_.OwningProcess]
                }
            })
        $result.listening = [ordered]@{ available = $true; reason = ''; items = $listeners }
    } catch {
        $result.listening = [ordered]@{ available = $false; reason = "Get-NetTCPConnection failed: $($_.Exception.Message)" }
    }
}

try {
    # InstalledOn is text in WMI: M/d/yyyy on current Windows, a hexadecimal FILETIME on some old ones
    $latest = $null
    $latestId = $null
    $fixes = @(Get-CimInstance -ClassName Win32_QuickFixEngineering -ErrorAction Stop)
    foreach ($fix in $fixes) {
        $text = Get-Text $fix 'InstalledOn'
        if ($null -eq $text) { continue }
        $when = $null
        $parsed = [DateTime]::MinValue
        if ([DateTime]::TryParseExact($text, 'M/d/yyyy', [Globalization.CultureInfo]::InvariantCulture,
                [Globalization.DateTimeStyles]::None, [ref]$parsed)) {
            $when = $parsed
        } elseif ($text -match '^[0-9A-Fa-f]{15,16}$') {
            $when = [DateTime]::FromFileTimeUtc([Convert]::ToInt64($text, 16)).Date
        }
        if ($null -ne $when -and ($null -eq $latest -or $when -gt $latest)) {
            $latest = $when
            $latestId = Get-Text $fix 'HotFixID'
        }
    }
    $lastDate = $null
    if ($null -ne $latest) { $lastDate = $latest.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture) }
    # a date without a time or zone: written as yyyy-MM-dd text, not as a DateTime
    $result.hotfixes = [ordered]@{
        available      = $true
        reason         = ''
        count          = $fixes.Count
        last_installed = $lastDate
        last_hotfix_id = $latestId
    }
} catch {
    $result.hotfixes = [ordered]@{ available = $false; reason = "Win32_QuickFixEngineering query failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 6 -Compress
